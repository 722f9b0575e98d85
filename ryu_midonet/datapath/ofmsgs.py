"""Flow specs -> os-ken OpenFlow 1.3 messages. The only module that builds switch messages."""

from __future__ import annotations

import re
import socket
import struct
from typing import Any

from os_ken.lib import type_desc
from os_ken.ofproto import nicira_ext
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from ryu_midonet.datapath.flows import (
    Action,
    Ct,
    FlowDelete,
    FlowSpec,
    GroupDelete,
    GroupSpec,
    Message,
    MeterDelete,
    MeterSpec,
    Nat,
    PacketOut,
    SwitchConfig,
)

_PORTS = {"controller": ofp.OFPP_CONTROLLER, "in_port": ofp.OFPP_IN_PORT,
          "table": ofp.OFPP_TABLE, "local": ofp.OFPP_LOCAL}
# Nicira extension fields: os-ken orders match fields by OXM class and number, which puts
# these ahead of the standard fields; Open vSwitch wants every field after its prerequisites
# (``ip_frag`` after ``eth_type``) and refuses the flow otherwise (OFPBMC_BAD_PREREQ).
_EXTENSION_FIELDS = frozenset({"ip_frag"})
_FRAGMENTS = {"normal": ofp.OFPC_FRAG_NORMAL, "drop": ofp.OFPC_FRAG_DROP,
              "reassemble": ofp.OFPC_FRAG_REASM, "nx-match": 3}  # OFPC_FRAG_NX_MATCH
_MISS_SEND_LEN = 128  # OpenFlow's default (the miss flow asks for whole packets anyway)
# Packet-ins the agent wants. Open vSwitch's default for OpenFlow 1.3 leaves out expired
# TTLs, which would make a cached flow's dec_nw_ttl drop them instead of handing them to the
# agent to answer with ICMP time exceeded. Port status and flow-removed as by default.
_PACKET_INS = (1 << ofp.OFPR_NO_MATCH) | (1 << ofp.OFPR_ACTION) | (1 << ofp.OFPR_INVALID_TTL)
_PORT_STATUS = (1 << ofp.OFPPR_ADD) | (1 << ofp.OFPPR_DELETE) | (1 << ofp.OFPPR_MODIFY)
_FLOW_REMOVED = ((1 << ofp.OFPRR_IDLE_TIMEOUT) | (1 << ofp.OFPRR_HARD_TIMEOUT)
                 | (1 << ofp.OFPRR_DELETE) | (1 << ofp.OFPRR_GROUP_DELETE))
# Meters count packets (not kilobits), allow a burst, and keep statistics (dump-meters).
_METER_FLAGS = ofp.OFPMF_PKTPS | ofp.OFPMF_BURST | ofp.OFPMF_STATS


NX_NAT_F_SRC, NX_NAT_F_DST = 1, 2
_NAT_FLAGS = {None: 0, "src": NX_NAT_F_SRC, "dst": NX_NAT_F_DST}


class _NatAction(parser.NXActionNAT):  # type: ignore[misc]
    """os-ken's NAT action, padded to a multiple of 8 bytes: os-ken announces the padded
    length but writes none of the padding, so an action following it inside ``ct`` (a
    ``ct_mark`` to set) would start too early and Open vSwitch refuses the flow."""

    def serialize_body(self) -> bytearray:
        data = bytearray(super().serialize_body())
        header = ofp.OFP_ACTION_EXPERIMENTER_HEADER_SIZE + 2  # and the subtype
        return data + bytes(-(header + len(data)) % 8)


def _port(value: int | str) -> int:
    return _PORTS[value] if isinstance(value, str) else value


def _nat(nat: Nat) -> Any:
    first, last = nat.addresses or ("", "")
    low, high = nat.ports or (None, None)
    return _NatAction(_NAT_FLAGS[nat.kind], range_ipv4_min=first, range_ipv4_max=last,
                      range_proto_min=low, range_proto_max=high)


def _ct(spec: Ct) -> Any:
    """The Nicira ``ct`` action of ``spec``."""
    flags = (nicira_ext.NX_CT_F_COMMIT if spec.commit else 0) | (
        nicira_ext.NX_CT_F_FORCE if spec.force else 0)
    if isinstance(spec.zone, str):
        zone_src, zone = spec.zone, nicira_ext.ofs_nbits(0, 15)
    else:
        zone_src, zone = "", spec.zone
    nested: list[Any] = [] if spec.nat is None else [_nat(spec.nat)]
    if spec.mark is not None:
        nested.append(parser.OFPActionSetField(ct_mark=spec.mark))
    table = nicira_ext.NX_CT_RECIRC_NONE if spec.table is None else spec.table
    return parser.NXActionCT(flags=flags, zone_src=zone_src, zone_ofs_nbits=zone,
                             recirc_table=table, alg=0, actions=nested)


def _actions(actions: tuple[Action, ...]) -> tuple[list[Any], int | None, int | None]:
    """OpenFlow actions, the goto table if the list ends with one, and the meter if any."""
    out: list[Any] = []
    goto = meter = None
    for act in actions:
        if act.kind == "output":
            out.append(parser.OFPActionOutput(_port(act.args[0]), ofp.OFPCML_NO_BUFFER))
        elif act.kind == "set_field":
            out.append(_set_field(act.args[0], act.args[1]))
        elif act.kind == "dec_ttl":
            out.append(parser.OFPActionDecNwTtl())
        elif act.kind == "push_vlan":
            out.append(parser.OFPActionPushVlan(0x8100))
            out.append(parser.OFPActionSetField(vlan_vid=act.args[0] | 0x1000))
        elif act.kind == "pop_vlan":
            out.append(parser.OFPActionPopVlan())
        elif act.kind == "goto":
            goto = act.args[0]
        elif act.kind == "meter":
            meter = act.args[0]
        elif act.kind == "ct":
            out.append(_ct(act.args[0]))
        elif act.kind == "ct_clear":
            out.append(parser.NXActionCTClear())
        elif act.kind == "group":
            out.append(parser.OFPActionGroup(act.args[0]))
        else:
            raise ValueError(f"unknown action {act.kind}")
    return out, goto, meter


# One match field as os-ken reads and writes it: (order key, the value as os-ken's
# OFPMatch(**fields) gives it back, the field's OXM TLV as os-ken serialises it).
_Field = tuple[tuple[bool, int], Any, bytes]
_FIELD_CACHE: dict[tuple[str, Any], _Field] = {}
_FIELD_CACHE_SIZE = 8192
_MAC_TEXT = re.compile(r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}")
_HEADER = struct.Struct("!HH")


def _write(buf: bytearray, offset: int, data: bytes) -> None:
    """``data`` into ``buf`` at ``offset``, ``buf`` grown as needed (as os-ken's
    ``msg_pack_into`` does)."""
    if len(buf) < offset:
        buf += bytes(offset - len(buf))
    buf[offset:offset + len(data)] = data


class _Match(parser.OFPMatch):  # type: ignore[misc]
    """An OFPMatch whose fields were serialised once, when it was built."""

    def __init__(self, ordered: list[tuple[str, Any]], tlvs: list[bytes]) -> None:
        super().__init__(_ordered_fields=ordered)
        self._tlvs = tlvs

    def serialize(self, buf: bytearray, offset: int) -> int:
        body = b"".join(self._tlvs)
        length = 4 + len(body)
        pad_len = -length % 8
        _write(buf, offset, _HEADER.pack(ofp.OFPMT_OXM, length) + body + bytes(pad_len))
        self.length = length
        return length + pad_len


class _SetField(parser.OFPActionSetField):  # type: ignore[misc]
    """A set-field action whose address was serialised once, when it was built."""

    def __init__(self, name: str, value: Any, tlv: bytes) -> None:
        super().__init__(**{name: value})
        self._tlv = tlv

    def serialize(self, buf: bytearray, offset: int) -> None:
        self.len = (4 + len(self._tlv) + 7) // 8 * 8
        _write(buf, offset, _HEADER.pack(self.type, self.len) + self._tlv
               + bytes(self.len - 4 - len(self._tlv)))


def _tlv(num: Any, data: bytes, mask: bytes | None) -> bytes:
    buf = bytearray()
    ofp.oxm_serialize(num, data, mask, buf, 0)
    return bytes(buf)


def _set_field(name: str, value: Any) -> Any:
    """The set-field action writing ``value`` into ``name``."""
    if type(value) is str and name in _ADDRESS_TYPES:
        fast = _address(name, value)
        if fast is not None:
            return _SetField(name, value, _tlv(fast[0], fast[2], None))
    return parser.OFPActionSetField(**{name: value})


def _field(name: str, value: Any) -> _Field:
    """What os-ken makes of match field ``name`` = ``value``: converted to bytes, masked,
    back to its user form (what ``OFPMatch(**fields)`` does, field by field)."""
    if type(value) is str and name in _ADDRESS_TYPES:
        fast = _address(name, value)
        if fast is not None:
            num, user, data = fast
            return (name in _EXTENSION_FIELDS, num), user, _tlv(num, data, None)
    num, data, mask = ofp.oxm_from_user(name, value)
    if mask is not None:
        data = bytes(x & y for x, y in zip(data, mask, strict=True))
    _, user = ofp.oxm_to_user(num, data, mask)
    # what serialising the user form gives (os-ken converts it again then)
    num, data, mask = ofp.oxm_from_user(name, user)
    return (name in _EXTENSION_FIELDS, num[0] if isinstance(num, tuple) else num), \
        user, _tlv(num, data, mask)


def _address(name: str, text: str) -> tuple[int, str, bytes] | None:
    """Field ``name``'s MAC or IPv4 address in its canonical text form, converted without
    netaddr; None for any other spelling (os-ken's own conversion then decides)."""
    num = _FIELD_NUMS[name]
    if _ADDRESS_TYPES[name] == "mac":
        if _MAC_TEXT.fullmatch(text) is None:
            return None
        return num, text.lower(), bytes.fromhex(text.replace(":", ""))
    try:
        data = socket.inet_aton(text)
    except OSError:
        return None
    if socket.inet_ntoa(data) != text:
        return None
    return num, text, data


def _oxm_kinds() -> tuple[dict[str, str], dict[str, int]]:
    kinds: dict[str, str] = {}
    nums: dict[str, int] = {}
    for field in ofp.oxm_types:
        if isinstance(field.num, tuple):
            continue
        if field.type is type_desc.MacAddr:
            kinds[field.name] = "mac"
        elif field.type is type_desc.IPv4Addr:
            kinds[field.name] = "ipv4"
        else:
            continue
        nums[field.name] = field.num
    return kinds, nums


_ADDRESS_TYPES, _FIELD_NUMS = _oxm_kinds()


def match(fields: dict[str, Any]) -> Any:
    """The OpenFlow match of ``fields``, every field after its prerequisites."""
    entries = []
    for name, value in fields.items():
        try:
            entry = _FIELD_CACHE.get((name, value))
            hashable = True
        except TypeError:  # an unhashable value: converted every time
            entry, hashable = None, False
        if entry is None:
            entry = _field(name, value)
            if hashable:
                if len(_FIELD_CACHE) >= _FIELD_CACHE_SIZE:
                    _FIELD_CACHE.clear()
                _FIELD_CACHE[name, value] = entry
        entries.append((entry, name))
    entries.sort(key=lambda item: item[0][0])  # stable: equal keys keep their order
    return _Match([(name, entry[1]) for entry, name in entries],
                  [entry[2] for entry, _ in entries])


def to_ofp(dp: Any, msg: Message) -> Any:
    """The os-ken message for ``msg`` on datapath ``dp``."""
    if isinstance(msg, FlowSpec):
        actions, goto, meter = _actions(msg.actions)
        inst: list[Any] = []
        if meter is not None:
            inst.append(parser.OFPInstructionMeter(meter, ofp.OFPIT_METER))
        if actions:
            inst.append(parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions))
        if goto is not None:
            inst.append(parser.OFPInstructionGotoTable(goto))
        return parser.OFPFlowMod(dp, cookie=msg.cookie, table_id=msg.table,
                                 command=ofp.OFPFC_ADD, idle_timeout=msg.idle_timeout,
                                 hard_timeout=msg.hard_timeout, priority=msg.priority,
                                 flags=ofp.OFPFF_SEND_FLOW_REM if msg.idle_timeout else 0,
                                 match=match(msg.match), instructions=inst)
    if isinstance(msg, FlowDelete):
        return parser.OFPFlowMod(dp, cookie=msg.cookie, cookie_mask=msg.mask,
                                 table_id=ofp.OFPTT_ALL, command=ofp.OFPFC_DELETE,
                                 out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY,
                                 match=parser.OFPMatch())
    if isinstance(msg, PacketOut):
        actions, _, _ = _actions(msg.actions)
        return parser.OFPPacketOut(dp, buffer_id=ofp.OFP_NO_BUFFER,
                                   in_port=_port(msg.in_port), actions=actions, data=msg.data)
    if isinstance(msg, SwitchConfig):
        return parser.OFPSetConfig(dp, _FRAGMENTS[msg.fragments], _MISS_SEND_LEN)
    if isinstance(msg, MeterSpec):
        band = parser.OFPMeterBandDrop(rate=msg.rate, burst_size=msg.burst)
        return parser.OFPMeterMod(dp, command=ofp.OFPMC_ADD, flags=_METER_FLAGS,
                                  meter_id=msg.meter_id, bands=[band])
    if isinstance(msg, MeterDelete):
        meter_id = ofp.OFPM_ALL if msg.meter_id is None else msg.meter_id
        return parser.OFPMeterMod(dp, command=ofp.OFPMC_DELETE, flags=0, meter_id=meter_id,
                                  bands=[])
    if isinstance(msg, GroupSpec):
        buckets = [parser.OFPBucket(weight=b.weight, watch_port=ofp.OFPP_ANY,
                                    watch_group=ofp.OFPG_ANY, actions=_actions(b.actions)[0])
                   for b in msg.buckets]
        return parser.OFPGroupMod(dp, command=ofp.OFPGC_ADD, type_=ofp.OFPGT_SELECT,
                                  group_id=msg.group_id, buckets=buckets)
    if isinstance(msg, GroupDelete):
        group_id = ofp.OFPG_ALL if msg.group_id is None else msg.group_id
        return parser.OFPGroupMod(dp, command=ofp.OFPGC_DELETE, type_=ofp.OFPGT_SELECT,
                                  group_id=group_id, buckets=[])
    raise TypeError(f"not a switch message: {msg!r}")


def to_ofp_all(dp: Any, msg: Message) -> list[Any]:
    """The os-ken messages that carry out ``msg``: one, except for a switch configuration,
    which also says which asynchronous messages the agent wants."""
    if isinstance(msg, SwitchConfig):
        return [to_ofp(dp, msg), parser.OFPSetAsync(
            dp, [_PACKET_INS, 0], [_PORT_STATUS, _PORT_STATUS], [_FLOW_REMOVED, 0])]
    return [to_ofp(dp, msg)]


def send_all(dp: Any, messages: list[Message]) -> None:
    """Send ``messages`` to the switch in order, followed by a barrier."""
    for msg in messages:
        for ofmsg in to_ofp_all(dp, msg):
            dp.send_msg(ofmsg)
    if messages:
        dp.send_msg(parser.OFPBarrierRequest(dp))
