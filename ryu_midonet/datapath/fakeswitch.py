"""An in-memory OpenFlow 1.3 switch for tests, fed the real os-ken messages.

Give :attr:`FakeSwitch.datapath` to :func:`ofmsgs.send_all` (or call :meth:`FakeSwitch.apply`,
which does) and the switch receives exactly what the agent sends an Open vSwitch: every
message is serialised first, flow-mods are checked as Open vSwitch checks them (match
prerequisites, actions consistent with the match, gotos forward only) and against their
pipeline table's contract, then kept in tables; packet-outs are executed. Packets are header
dicts (see :mod:`.fakepacket`).

Anything it does not model (another message, instruction, action, port or field) raises
:class:`~.ofcheck.NotUnderstood`; what Open vSwitch would answer with an OpenFlow error raises
:class:`SwitchError`; a flow breaking its table's contract raises
:class:`~.pipeline.FlowRefused`. Open vSwitch behaviours it models: an expiring TTL stops the
packet and is a packet-in only when the controller asked for those (it does not by default
on OpenFlow 1.3), output to the ingress port is dropped unless ``in_port`` is named, and the
configured fragment handling decides what fragments' L4 fields read.

Meters are kept (their bands, rates and flags) and a flow naming a meter that does not exist
is refused, a meter added twice or changed before it exists too, and deleting a meter removes
the flows that use it, all as in Open vSwitch; rates are not enforced: a packet passing a
meter is recorded in :attr:`Forwarded.meters` and goes on.

Select groups are kept (a flow naming a group that does not exist is refused, deleting a group
removes the flows that use it, as in Open vSwitch); a packet takes the bucket a hash of its
addresses and ports gives, in proportion to the weights: the same for both directions of a
connection and for all its packets while the buckets stay the same, as Open vSwitch's default
(``dp_hash`` of the symmetric L4 hash) does; the hash itself is the model's own.

Connection tracking (``ct``, ``ct_clear``, matches on ``ct_state``, ``ct_zone``, ``ct_mark``
and registers) runs through :class:`~.conntrack.ConnTracker` (what it models and what it
refuses is said there). Flow-mods are checked as Open vSwitch checks these actions (an IPv4
match, ``commit`` for ``force``, ``nat(src|dst)`` and ``exec``, a 16-bit zone field), against
:data:`~.pipeline.TABLES` unless the switch is given other contracts (see
:func:`~.pipeline.with_conntrack`). ``ct(table=T)`` resubmits a copy of the packet to table
``T`` with the connection tracking fields set; the actions after it go on without them. The
table after a ``ct`` with ``nat`` would match the untranslated headers in Open vSwitch, so a
goto or a header change after one is refused as not modelled.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from os_ken.ofproto import nicira_ext
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from ryu_midonet.datapath import conntrack as ct
from ryu_midonet.datapath import fakepacket as fp
from ryu_midonet.datapath import ofmsgs, packets
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.fakepacket import Headers, Masked
from ryu_midonet.datapath.flows import CT_INV, Message
from ryu_midonet.datapath.ofcheck import NotUnderstood, check_flow_mod, instructions, meter_of

# Open vSwitch's packet-in reasons for an OpenFlow 1.3 controller that set none.
DEFAULT_PACKET_INS = frozenset({ofp.OFPR_NO_MATCH, ofp.OFPR_ACTION})
_VLAN_TPIDS = (0x8100, 0x88A8)
MAX_RECIRCULATIONS = 6  # Open vSwitch drops a packet recirculated more often (MAX_DEPTH)
_NAT_KINDS = {0: None, 1: "src", 2: "dst"}  # NX_NAT_F_SRC, NX_NAT_F_DST


class SwitchError(ValueError):
    """A message Open vSwitch would refuse with an OpenFlow error."""


@dataclass(frozen=True)
class Entry:
    """One flow in a table, from the flow-mod that added it."""

    table_id: int
    priority: int
    cookie: int
    match: dict[str, Masked]
    actions: tuple[Any, ...]
    goto: int | None
    msg: Any
    meter: int | None = None


@dataclass(frozen=True)
class Meter:
    """One meter: a drop band of ``rate`` packets per second after a burst of ``burst``."""

    meter_id: int
    rate: int
    burst: int
    flags: int


@dataclass(frozen=True)
class PacketIn:
    """A packet the switch sent to the controller, and why (an ``OFPR_*`` reason)."""

    reason: int
    headers: Headers


@dataclass
class Forwarded:
    """Where a packet went: out of ports (with the headers it left with), or to the agent."""

    outputs: list[tuple[int, Headers]] = field(default_factory=list)
    to_controller: bool = False
    flows_hit: list[Entry] = field(default_factory=list)
    packet_ins: list[PacketIn] = field(default_factory=list)
    meters: list[int] = field(default_factory=list)  # the meters it passed, in order


class FakeDatapath:
    """What :mod:`.ofmsgs` needs of an os-ken datapath, delivering to a :class:`FakeSwitch`."""

    ofproto = ofp
    ofproto_parser = parser

    def __init__(self, switch: FakeSwitch, dpid: int) -> None:
        self.switch = switch
        self.id = dpid
        self._xid = 0

    def send_msg(self, msg: Any) -> None:
        self._xid += 1
        msg.set_xid(self._xid)
        msg.serialize()  # what cannot be encoded never reaches a switch
        if isinstance(msg, parser.OFPFlowMod):  # the switch reads the bytes, as sent
            msg = parser.OFPFlowMod.parser(self, msg.version, msg.msg_type, msg.msg_len,
                                           msg.xid, bytes(msg.buf))
        self.switch.receive(msg)


class FakeSwitch:
    """Flow tables and packet forwarding of one switch."""

    def __init__(self, dpid: int = 1,
                 tables: Mapping[int, p.TableContract] = p.TABLES) -> None:
        self.datapath = FakeDatapath(self, dpid)
        self.tables = tables  # the contracts flows are checked against
        self.conntrack = ct.ConnTracker()
        self.flows: list[Entry] = []
        self.meters: dict[int, Meter] = {}
        self.groups: dict[int, list[tuple[int, list[Any]]]] = {}  # id -> (weight, actions)
        self.packet_ins: list[PacketIn] = []
        self.packet_outs: list[Forwarded] = []  # what each packet-out did, in order
        self.fragments = fp.FRAG_NORMAL
        self.packet_in_reasons = DEFAULT_PACKET_INS
        self._handlers: dict[type, Callable[[Any], None]] = {
            parser.OFPFlowMod: self._flow_mod, parser.OFPPacketOut: self._packet_out,
            parser.OFPSetConfig: self._set_config, parser.OFPSetAsync: self._set_async,
            parser.OFPMeterMod: self._meter_mod, parser.OFPGroupMod: self._group_mod,
            parser.OFPBarrierRequest: lambda msg: None}

    # -- messages --------------------------------------------------------------------------
    def apply(self, messages: Iterable[Message]) -> None:
        """Send flow specs the way the agent does: through :func:`ofmsgs.send_all`."""
        ofmsgs.send_all(self.datapath, list(messages))

    def receive(self, msg: Any) -> None:
        """Take one os-ken message."""
        handler = self._handlers.get(type(msg))
        if handler is None:
            raise NotUnderstood(f"message {type(msg).__name__}")
        handler(msg)

    def _flow_mod(self, msg: Any) -> None:
        if msg.command == ofp.OFPFC_ADD:
            self._add(msg)
        elif msg.command == ofp.OFPFC_DELETE:
            self._delete(msg)
        else:
            raise NotUnderstood(f"flow-mod command {msg.command}")

    def _add(self, msg: Any) -> None:
        if msg.buffer_id != ofp.OFP_NO_BUFFER or msg.flags & ~ofp.OFPFF_SEND_FLOW_REM:
            raise NotUnderstood(f"flow-mod buffer {msg.buffer_id} flags {msg.flags:#x}")
        match = {name: fp.match_entry(name, value) for name, value in msg.match.items()}
        for name in match:
            for pre, value in fp.PREREQUISITES.get(name, {}).items():
                if match.get(pre) != (value, -1):
                    raise SwitchError(f"match on {name} without {pre}={value:#x} "
                                      "(OFPBMC_BAD_PREREQ)")
        actions, goto = instructions(msg)
        if goto is not None and goto <= msg.table_id:
            raise SwitchError(f"table {msg.table_id} goes to table {goto} (OFPBIC_BAD_TABLE_ID)")
        fixed = {k: v for k, (v, mask) in match.items() if mask == -1}
        _check_actions(actions, fixed, fp.vlan_in(match), packet_out=False)
        _check_conntrack(actions, fixed, match, goto)
        meter = meter_of(msg)
        if meter is not None and meter not in self.meters:
            raise SwitchError(f"flow through meter {meter}, which does not exist "
                              "(OFPMMFC_INVALID_METER)")
        for act in actions:
            if isinstance(act, parser.OFPActionGroup) and act.group_id not in self.groups:
                raise SwitchError(f"flow to group {act.group_id}, which does not exist "
                                  "(OFPBAC_BAD_OUT_GROUP)")
        check_flow_mod(msg, self.tables)
        entry = Entry(msg.table_id, msg.priority, msg.cookie, match, tuple(actions), goto, msg,
                      meter)
        self.flows = [f for f in self.flows if (f.table_id, f.priority, f.match)
                      != (entry.table_id, entry.priority, entry.match)]
        self.flows.append(entry)

    def _delete(self, msg: Any) -> None:
        if list(msg.match.items()) or msg.out_port != ofp.OFPP_ANY \
                or msg.out_group != ofp.OFPG_ANY:
            raise NotUnderstood("a flow delete by match, output port or group")
        self.flows = [f for f in self.flows
                      if (msg.table_id not in (ofp.OFPTT_ALL, f.table_id))
                      or (f.cookie & msg.cookie_mask) != (msg.cookie & msg.cookie_mask)]

    def _meter_mod(self, msg: Any) -> None:
        if msg.command == ofp.OFPMC_DELETE:
            gone = set(self.meters) if msg.meter_id == ofp.OFPM_ALL else {msg.meter_id}
            for meter_id in gone:
                self.meters.pop(meter_id, None)
            self.flows = [f for f in self.flows if f.meter not in gone]
            return
        if msg.command not in (ofp.OFPMC_ADD, ofp.OFPMC_MODIFY):
            raise NotUnderstood(f"meter-mod command {msg.command}")
        if not 0 < msg.meter_id <= ofp.OFPM_MAX:
            raise SwitchError(f"meter id {msg.meter_id:#x} (OFPMMFC_INVALID_METER)")
        exists = msg.meter_id in self.meters
        if msg.command == ofp.OFPMC_ADD and exists:
            raise SwitchError(f"meter {msg.meter_id} exists (OFPMMFC_METER_EXISTS)")
        if msg.command == ofp.OFPMC_MODIFY and not exists:
            raise SwitchError(f"meter {msg.meter_id} does not exist (OFPMMFC_UNKNOWN_METER)")
        if msg.flags & ~(ofp.OFPMF_PKTPS | ofp.OFPMF_BURST | ofp.OFPMF_STATS) \
                or not msg.flags & ofp.OFPMF_PKTPS:
            raise NotUnderstood(f"meter flags {msg.flags:#x} (only packet rates are modelled)")
        if len(msg.bands) != 1 or not isinstance(msg.bands[0], parser.OFPMeterBandDrop):
            raise NotUnderstood(f"meter bands {msg.bands!r} (one drop band is modelled)")
        band = msg.bands[0]
        if band.rate <= 0:
            raise SwitchError(f"meter {msg.meter_id} rate {band.rate} (OFPMMFC_INVALID_BAND)")
        burst = band.burst_size if msg.flags & ofp.OFPMF_BURST else 0
        self.meters[msg.meter_id] = Meter(msg.meter_id, band.rate, burst, msg.flags)

    def _group_mod(self, msg: Any) -> None:
        if msg.command == ofp.OFPGC_DELETE:
            gone = set(self.groups) if msg.group_id == ofp.OFPG_ALL else {msg.group_id}
            for group_id in gone:
                self.groups.pop(group_id, None)
            self.flows = [f for f in self.flows if not any(
                isinstance(a, parser.OFPActionGroup) and a.group_id in gone
                for a in f.actions)]
            return
        if msg.command != ofp.OFPGC_ADD or msg.type != ofp.OFPGT_SELECT:
            raise NotUnderstood(f"group-mod command {msg.command} type {msg.type}")
        if msg.group_id in self.groups:
            raise SwitchError(f"group {msg.group_id} exists (OFPGMFC_GROUP_EXISTS)")
        if not 0 <= msg.group_id <= ofp.OFPG_MAX:
            raise SwitchError(f"group id {msg.group_id:#x} (OFPGMFC_INVALID_GROUP)")
        buckets = []
        for bucket in msg.buckets:
            if bucket.weight <= 0:
                raise NotUnderstood("a select bucket of weight 0")
            buckets.append((bucket.weight, list(bucket.actions)))
        self.groups[msg.group_id] = buckets

    def _set_config(self, msg: Any) -> None:
        if msg.flags & ~ofp.OFPC_FRAG_MASK:
            raise NotUnderstood(f"switch config flags {msg.flags:#x}")
        self.fragments = msg.flags

    def _set_async(self, msg: Any) -> None:
        mask = msg.packet_in_mask[0]  # the agent's role: master or equal
        self.packet_in_reasons = frozenset(r for r in range(32) if mask & (1 << r))

    def _packet_out(self, msg: Any) -> None:
        if msg.buffer_id != ofp.OFP_NO_BUFFER:
            raise NotUnderstood(f"packet-out from buffer {msg.buffer_id}")
        packet = packets.parse(msg.data)
        if packet is None:
            raise NotUnderstood(f"packet-out data {msg.data!r}")
        result = Forwarded()
        payload = {"payload": packet.payload} if packet.payload else {}  # an ICMP quote
        pkt = fp.to_wire({**packet.headers(), **payload, **_tcp_flags(msg.data),
                          "in_port": msg.in_port}, self.fragments)
        if pkt is not None:
            fixed: dict[str, int] = {k: pkt[k] for k in ("eth_type", "ip_proto") if k in pkt}
            _check_actions(msg.actions, fixed, "vlan_vid" in pkt, packet_out=True)
            self._execute(msg.actions, pkt, result)
        self.packet_outs.append(result)

    # -- packets ---------------------------------------------------------------------------
    def table(self, table_id: int) -> list[Entry]:
        return [f for f in self.flows if f.table_id == table_id]

    def lookup(self, table_id: int, headers: Headers) -> Entry | None:
        """The flow of ``table_id`` a packet with ``headers`` hits (None: a miss)."""
        pkt = fp.to_wire(headers, self.fragments)
        return None if pkt is None else self._lookup(table_id, pkt)

    def _lookup(self, table_id: int, pkt: Headers) -> Entry | None:
        best = None
        for flow in self.table(table_id):
            if fp.matches(flow.match, pkt) and (best is None or flow.priority > best.priority):
                best = flow
        return best

    def process(self, headers: Headers, table_id: int = 0) -> Forwarded:
        """Run a packet through the tables, starting at ``table_id``."""
        result = Forwarded()
        pkt = fp.to_wire(headers, self.fragments)
        if pkt is not None:
            self._run(pkt, table_id, result)
        return result

    def _run(self, pkt: Headers, table_id: int, result: Forwarded, depth: int = 0) -> None:
        while True:
            flow = self._lookup(table_id, pkt)
            if flow is None:
                return  # OpenFlow 1.3: a table miss without a miss flow drops
            result.flows_hit.append(flow)
            if flow.meter is not None:
                result.meters.append(flow.meter)  # rates are not modelled: it passes
            if not self._execute(flow.actions, pkt, result, depth) or flow.goto is None:
                return
            table_id = flow.goto

    def _execute(self, actions: Iterable[Any], pkt: Headers, result: Forwarded,
                 depth: int = 0) -> bool:
        """Apply ``actions`` to ``pkt``; False when processing stops (an expired TTL)."""
        for act in actions:
            if isinstance(act, parser.OFPActionOutput):
                self._output(act.port, pkt, result)
            elif isinstance(act, parser.NXActionCT):
                self._conntrack(act, pkt, result, depth)
            elif isinstance(act, parser.NXActionCTClear):
                _replace(pkt, ct.forget(pkt))
            elif isinstance(act, parser.OFPActionGroup):
                self._execute(select(self.groups[act.group_id], pkt), dict(pkt), result,
                              depth)
            elif isinstance(act, parser.OFPActionSetField):
                pkt[act.key] = act.value
            elif isinstance(act, parser.OFPActionDecNwTtl):
                if pkt.get("eth_type") != fp.ETH_IPV4:
                    continue
                if "nw_ttl" not in pkt:
                    raise NotUnderstood("an IPv4 packet without nw_ttl")
                if pkt["nw_ttl"] <= 1:
                    self._packet_in(ofp.OFPR_INVALID_TTL, pkt, result)
                    return False
                pkt["nw_ttl"] -= 1
            elif isinstance(act, parser.OFPActionPushVlan):
                if "vlan_vid" in pkt:
                    raise NotUnderstood("a second VLAN tag")
                pkt["vlan_vid"] = fp.OFPVID_PRESENT  # a new outer tag has VID 0
            elif isinstance(act, parser.OFPActionPopVlan):
                if "vlan_vid" not in pkt:
                    raise NotUnderstood("pop_vlan on an untagged packet")
                del pkt["vlan_vid"]
            else:
                raise NotUnderstood(f"action {act!r}")
        return True

    def _conntrack(self, act: Any, pkt: Headers, result: Forwarded, depth: int) -> None:
        """A ``ct`` action: through the tracker, a copy to its table, then on without the
        connection tracking fields."""
        if act.zone_src:
            start = act.zone_ofs_nbits >> 6
            zone = (fp.as_int(pkt.get(act.zone_src, 0)) >> start) & 0xFFFF
        else:
            zone = act.zone_ofs_nbits
        nat = mark = None
        for nested in act.actions:
            if isinstance(nested, parser.NXActionNAT):
                nat = ct.translate_request(
                    _NAT_KINDS[nested.flags], nested.range_ipv4_min, nested.range_ipv4_max,
                    nested.range_proto_min, nested.range_proto_max)
            else:
                mark = nested.value
        self.conntrack.execute(pkt, zone, commit=bool(act.flags & nicira_ext.NX_CT_F_COMMIT),
                               force=bool(act.flags & nicira_ext.NX_CT_F_FORCE), nat=nat,
                               mark=mark)
        if act.recirc_table != nicira_ext.NX_CT_RECIRC_NONE:
            if depth >= MAX_RECIRCULATIONS:
                raise NotUnderstood(f"a packet recirculated {depth} times: a loop")
            self._run(ct.visible(pkt), act.recirc_table, result, depth + 1)
        _replace(pkt, ct.cleared(pkt))

    def _output(self, port: int, pkt: Headers, result: Forwarded) -> None:
        out = {k: v for k, v in ct.strip(pkt).items() if k not in fp.SWITCH_ONLY}
        if port == ofp.OFPP_CONTROLLER:
            self._packet_in(ofp.OFPR_ACTION, pkt, result)
        elif port == ofp.OFPP_TABLE:
            self._run(dict(pkt), 0, result)
        elif port == ofp.OFPP_IN_PORT:
            result.outputs.append((pkt["in_port"], fp.to_plain(out)))
        elif port != pkt.get("in_port"):  # never back out of the ingress port unnamed
            result.outputs.append((port, fp.to_plain(out)))

    def _packet_in(self, reason: int, pkt: Headers, result: Forwarded) -> None:
        if reason in self.packet_in_reasons:
            result.to_controller = True
            result.packet_ins.append(PacketIn(reason, fp.to_plain(ct.strip(pkt))))
            self.packet_ins.append(result.packet_ins[-1])


def select(buckets: list[tuple[int, list[Any]]], pkt: Headers) -> list[Any]:
    """The actions of the bucket a packet takes: by a symmetric hash of its addresses and
    ports, in proportion to the weights."""
    ends = sorted([(str(pkt.get("ipv4_src")), str(pkt.get("tcp_src", pkt.get("udp_src")))),
                   (str(pkt.get("ipv4_dst")), str(pkt.get("tcp_dst", pkt.get("udp_dst"))))])
    index = zlib.crc32(repr((pkt.get("ip_proto"), ends)).encode()) % sum(
        w for w, _ in buckets)
    for weight, actions in buckets:
        index -= weight
        if index < 0:
            return actions
    return buckets[-1][1]


def _tcp_flags(data: bytes) -> Headers:
    """The TCP flags of a frame (a first or only IPv4 fragment), as a header."""
    at = 14 + (4 if data[12:14] == b"\x81\x00" else 0)
    if data[at - 2:at] != b"\x08\x00" or len(data) < at + 20 or data[at + 9] != 6:
        return {}
    if int.from_bytes(data[at + 6:at + 8], "big") & 0x1FFF:
        return {}
    flags = at + (data[at] & 0x0F) * 4 + 13
    return {"tcp_flags": data[flags]} if len(data) > flags else {}


def _replace(pkt: Headers, new: Headers) -> None:
    pkt.clear()
    pkt.update(new)


def _check_conntrack(actions: list[Any], fixed: dict[str, int], match: dict[str, Masked],
                     goto: int | None) -> None:
    """Refuse ``ct`` actions as Open vSwitch does (decode and check_CT), and what the model
    does not cover."""
    after_nat = False
    source: str | None = None  # the one address a ct's source NAT translates to
    for act in actions:
        if after_nat and isinstance(act, parser.OFPActionSetField) and (
                act.key == "ipv4_src" and source is not None and act.value == source):
            continue  # the translated source again: a no-op once the tracker translated
        if after_nat and isinstance(act, parser.NXActionCT) and (
                act.recirc_table == nicira_ext.NX_CT_RECIRC_NONE) and not any(
                isinstance(a, parser.NXActionNAT) for a in act.actions):
            pass  # the tracker reads the packet itself, translated (another zone's commit)
        elif after_nat and not isinstance(act, parser.OFPActionOutput | parser.NXActionCTClear):
            raise NotUnderstood(f"{type(act).__name__} after a ct with nat (Open vSwitch "
                                "would see the untranslated headers)")
        if not isinstance(act, parser.NXActionCT):
            continue
        commit = bool(act.flags & nicira_ext.NX_CT_F_COMMIT)
        if act.flags & ~(nicira_ext.NX_CT_F_COMMIT | nicira_ext.NX_CT_F_FORCE) or act.alg:
            raise NotUnderstood(f"ct flags {act.flags:#x} alg {act.alg}")
        if act.flags & nicira_ext.NX_CT_F_FORCE and not commit:
            raise SwitchError("ct force without commit (OFPBAC_BAD_ARGUMENT)")
        if fixed.get("eth_type") == 0x86DD:
            raise NotUnderstood("connection tracking of IPv6")
        if fixed.get("eth_type") != fp.ETH_IPV4:
            raise SwitchError("ct on packets not known to be IPv4 (OFPBAC_MATCH_INCONSISTENT)")
        state, mask = match.get("ct_state", (0, 0))
        if commit and state & mask & CT_INV:
            raise SwitchError("ct commit of +inv packets (OFPBAC_MATCH_INCONSISTENT)")
        if act.zone_src:
            if act.zone_src not in fp.REGISTERS:
                raise NotUnderstood(f"ct zone from {act.zone_src}")
            start, bits = act.zone_ofs_nbits >> 6, (act.zone_ofs_nbits & 0x3F) + 1
            if bits != 16 or start + bits > 32:
                raise SwitchError(f"ct zone of {bits} bits at {start} (OFPBAC_BAD_SET_LEN)")
        nats = [a for a in act.actions if isinstance(a, parser.NXActionNAT)]
        for nested in act.actions:
            if isinstance(nested, parser.NXActionNAT):
                _check_nat(nested, commit)
            elif isinstance(nested, parser.OFPActionSetField) and nested.key == "ct_mark":
                if not commit or isinstance(nested.value, tuple):
                    raise (SwitchError("ct exec without commit (OFPBAC_BAD_ARGUMENT)")
                           if not commit else NotUnderstood("a masked ct_mark"))
            elif isinstance(nested, parser.OFPActionSetField) and nested.key == "ct_label":
                raise NotUnderstood("ct_label")
            else:
                raise SwitchError(f"{nested!r} inside ct (OFPBAC_BAD_ARGUMENT)")
        if len(nats) > 1:
            raise NotUnderstood("two nat in one ct")
        if nats:
            if goto is not None:
                raise NotUnderstood("a goto after a ct with nat (Open vSwitch would match "
                                    "the untranslated headers)")
            after_nat = True
            nat = nats[0]
            if nat.flags == 0x1 and nat.range_ipv4_min and nat.range_ipv4_min == (
                    nat.range_ipv4_max or nat.range_ipv4_min):
                source = nat.range_ipv4_min


def _check_nat(nat: Any, commit: bool) -> None:
    if nat.flags & ~0x3:
        raise NotUnderstood(f"nat flags {nat.flags:#x} (persistent, hash, random)")
    if nat.flags == 0x3:
        raise SwitchError("nat both src and dst (OFPBAC_BAD_ARGUMENT)")
    ranged = bool(nat.range_ipv4_min or nat.range_proto_min is not None)
    if nat.range_ipv6_min or nat.range_ipv6_max:
        raise NotUnderstood("IPv6 NAT")
    if not commit and (nat.flags or ranged):
        raise SwitchError("ct without commit may only hold a bare nat (OFPBAC_BAD_ARGUMENT)")
    if ranged and not nat.flags:
        raise NotUnderstood("a nat range without src or dst")
    if nat.range_ipv4_max and not nat.range_ipv4_min:
        raise SwitchError("nat with a last address and no first (OFPBAC_BAD_ARGUMENT)")
    if nat.range_ipv4_min:
        first = fp.as_int(nat.range_ipv4_min)
        if first == 0 or (nat.range_ipv4_max and fp.as_int(nat.range_ipv4_max) < first):
            raise SwitchError(f"nat addresses {nat.range_ipv4_min}-{nat.range_ipv4_max} "
                              "(OFPBAC_BAD_ARGUMENT)")
    elif nat.range_proto_min is not None:
        raise NotUnderstood("nat ports without addresses")
    if nat.range_proto_max is not None and (
            nat.range_proto_min is None or nat.range_proto_max < nat.range_proto_min):
        raise SwitchError(f"nat ports {nat.range_proto_min}-{nat.range_proto_max} "
                          "(OFPBAC_BAD_ARGUMENT)")


def _check_actions(actions: Iterable[Any], fixed: dict[str, int], vlan: bool,
                   packet_out: bool) -> None:
    """Refuse actions Open vSwitch finds inconsistent with what the match (or the packet of
    a packet-out) fixes: ``fixed`` exact field values, ``vlan`` a tag is there."""
    for act in actions:
        if isinstance(act, parser.OFPActionOutput):
            if not (0 < act.port <= ofp.OFPP_MAX or act.port in (
                    ofp.OFPP_CONTROLLER, ofp.OFPP_IN_PORT)
                    or (packet_out and act.port == ofp.OFPP_TABLE)):
                raise NotUnderstood(f"output to port {act.port:#x}")
        elif isinstance(act, parser.OFPActionSetField):
            if act.key not in fp.WRITABLE:
                raise NotUnderstood(f"set_field {act.key}")
            for pre, value in fp.PREREQUISITES.get(act.key, {}).items():
                if fixed.get(pre) != value:
                    raise SwitchError(f"set_field {act.key} without {pre}={value:#x} "
                                      "(OFPBAC_MATCH_INCONSISTENT)")
            if act.key == "vlan_vid" and not (vlan and act.value & fp.OFPVID_PRESENT):
                raise SwitchError("set_field vlan_vid needs a tag and OFPVID_PRESENT")
        elif isinstance(act, parser.OFPActionDecNwTtl):
            if fixed.get("eth_type") != fp.ETH_IPV4:
                raise SwitchError("dec_nw_ttl on packets not known to be IPv4 "
                                  "(OFPBAC_MATCH_INCONSISTENT)")
        elif isinstance(act, parser.OFPActionPushVlan):
            if act.ethertype not in _VLAN_TPIDS:
                raise SwitchError(f"push_vlan {act.ethertype:#x} (OFPBAC_BAD_ARGUMENT)")
            if vlan:
                raise NotUnderstood("a second VLAN tag")
            vlan = True
        elif isinstance(act, parser.OFPActionPopVlan):
            if not vlan:
                raise SwitchError("pop_vlan on packets not known to be tagged "
                                  "(OFPBAC_MATCH_INCONSISTENT)")
            vlan = False
        elif isinstance(act, parser.NXActionCT | parser.NXActionCTClear) and not packet_out:
            continue  # checked by _check_conntrack
        elif isinstance(act, parser.OFPActionGroup) and not packet_out:
            continue  # the group's existence is checked by the flow-mod
        else:
            raise NotUnderstood(f"action {act!r}")
