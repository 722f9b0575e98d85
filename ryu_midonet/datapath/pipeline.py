"""The per-host OpenFlow 1.3 pipeline: tables, their contracts, and cookies.

=====  ================  ===============================================================
table  name              what it holds
=====  ================  ===============================================================
0      classify          one flow per bound local port (``in_port`` -> table 1) and one
                         per tunnel port (-> table 2); anything else is dropped
1      flows             the flow cache: flows built from simulation results (megaflows);
                         misses go to the agent: one miss flow per bound local port
                         (``in_port``, through that port's meter) and the table-miss flow
2      tunnel-delivery   ``tunnel_id`` = tunnel key of a local port -> out of that port,
                         installed when the port is bound; no simulation on egress hosts;
                         the key with :data:`CT_COMMIT_BIT`: commit the connection, then out
3      nat-return        replies that went through the connection tracker (source NAT in
                         the datapath, agent option ``nat_in_datapath``): flows built from
                         simulations of the translated-back reply, keyed by ``in_port``, the
                         NAT address in :data:`NAT_REG` and ``ct_state`` (and, for replies
                         steered from another host, the entry port's tunnel key in
                         :data:`ENTRY_REG`); misses go to the agent
4      ct-lookup         packets the flow cache sent through the connection tracker for a
                         decision that depends on it (agent option
                         ``conntrack_in_datapath``): flows built from simulations that know
                         the tracker's answer, keyed by ``in_port``, ``ct_zone`` and
                         ``ct_state``; forward flows may commit the connection; misses go
                         to the agent (a local port's through its meter, as in table 1)
5      nat-tunnel-in     replies to this host's NAT ports that entered the topology on
                         another host, tunnelled here with key :data:`NAT_TUNNEL_FLAG` |
                         the entry port's tunnel key (table 2's misses come here): the NAT
                         address into :data:`NAT_REG`, the entry port's key into
                         :data:`ENTRY_REG`, then ``ct(zone, nat, table=3)``; misses drop
6      ct-copy           packets just committed in the zone of a scope whose ports are bound
                         on several hosts (``ct(commit, zone, table=6)``): a new
                         connection's (``ct_state=+new``, keyed by ``ct_zone``) are copied
                         to each other host with a bound port of the scope, tunnel key
                         :data:`CT_COPY_KEY` | that port's key, whose tunnel-delivery table
                         commits them in the scope's zone and drops them; misses drop
7      nat-egress        replies to a NAT port translated in another flow-state scope than
                         the exit port's, after the tracker in the exit port's zone (steering
                         flows of tables 1 and 5: ``ct(zone=exit, table=7)``): its answer
                         into :data:`EGRESS_REG`, then ``ct(zone=NAT scope, nat, table=3)``;
                         misses drop
8      lb-forward        connections to a VIP after the tracker in the VIP's zone
                         (:mod:`.lbflows`): a new one to the VIP's select group (or, with
                         source-IP persistence, to its source's member), whose bucket
                         commits it with ``nat(dst=member)`` and comes back here; a
                         translated one (``+dnat``, keyed by the member's address and port)
                         on to its member; misses drop
9      lb-reply          packets from a member's address and port after the tracker in the
                         VIP's zone: flows built from simulations of a balanced reply
                         (``+rpl``) or of anything else (``-rpl``); misses go to the agent
=====  ================  ===============================================================

Each table declares, as a :class:`TableContract`, the fields its flows may match, the fields
every flow but the table-miss flow must match, the tables it may go to and the actions it
may use. :func:`check` refuses a flow that steps outside its table's contract; the fake
switch applies it to every flow it is sent, and :mod:`.ofcheck` applies it to os-ken
messages.

Cookies say what installed a flow: the top byte is the kind, the rest an id. Classification
and delivery flows carry the port's tunnel key, so ``cookie=0x0100000000000007`` is the
classification flow of the port whose tunnel key is 7; simulated flows carry a sequence
number the agent maps to the devices, ports, routes and MAC/ARP entries the flow was built
from, and removes when any of them changes.

Meters: each bound local port's miss flow goes through the OpenFlow meter whose id is the
port's tunnel key (:func:`meter_id`), which drops the port's misses above a rate, so one
port sending many new flows cannot take the agent from the others. A table whose contract
has ``meters`` may hold flows with a meter instruction.

Connection tracking: the flow cache may send a packet through ``ct`` (source NAT in the
datapath: ``ct(commit, zone, nat(src=...))`` on the way out, and for replies entering at the
uplink ``ct(zone, nat, table=3)`` after loading the NAT address into :data:`NAT_REG`); the
nat-return table matches what the tracker says. When the exterior port the translated
packets leave by is on another host, that host's flow cache sends the replies (same match)
into a tunnel to the translating host with key ``NAT_TUNNEL_FLAG | entry port's key``, and
the nat-tunnel-in table takes them through the tracker there. With
``conntrack_in_datapath``, a decision that depends on connection tracking
(``matchForwardFlow``/``matchReturnFlow``) becomes a flow-cache flow ``ct(zone, table=4)``
(the zone of the ingress port's flow-state scope) and ct-lookup flows matching the tracker's
answer; where a new connection leaves, ``ct(commit, zone)`` before the output, or, through a
tunnel, the key with :data:`CT_COMMIT_BIT` set, which the egress host's tunnel-delivery
table commits (in the zone of the port's scope) before the output. When the scope's ports
are bound on several hosts, that commit is ``ct(commit, zone, table=6)``: its first packets
(``+new``) are copied to the other hosts (:data:`CT_COPY_KEY`), whose tunnel-delivery
tables commit them in the same zone, so a reply entering there is ``+rpl``. Other tables do
not use the tracker. :func:`with_conntrack` gives the contract of a table that does more,
which says the tables its ``ct`` actions may resubmit packets to (``recirculate``, forwards
or backwards).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass

TABLE_CLASSIFY = 0
TABLE_FLOWS = 1
TABLE_TUNNEL_DELIVERY = 2
TABLE_NAT_RETURN = 3
TABLE_NAT_TUNNEL_IN = 5
NAT_REG = "reg7"  # the NAT address (as an integer) a reply was sent to, before the tracker
# The TTL decrements a flow did before its next dec_ttl: an expiring TTL's packet-in carries
# it, and the agent adds it back (see :mod:`.translator`).
TTL_REG = "reg5"
ENTRY_REG = "reg6"  # a steered reply's entry port (its tunnel key), on the translating host
# Tunnel keys with this bit carry a reply to this host's NAT ports, the rest of the key
# naming the exterior port it entered by (port tunnel keys stay below it).
NAT_TUNNEL_FLAG = 1 << 22
# Flag bits of the tunnel key, above every port's key (VXLAN carries 24 bits, GRE 32).
# A packet tunnelled with CT_COMMIT_BIT set starts a connection: the egress host's delivery
# table records it in the connection tracker of the port's flow-state scope
# (``conntrack_in_datapath``).
TABLE_CT_LOOKUP = 4
CT_COMMIT_BIT = 1 << 23
# Both flag bits: a copy of a new connection's packet, for the tracker of the port's scope on
# the receiving host (committed there, then dropped; ``conntrack_in_datapath``).
CT_COPY_KEY = NAT_TUNNEL_FLAG | CT_COMMIT_BIT
TABLE_CT_COPY = 6
# A reply to a NAT port whose translation is in another flow-state scope than the exit
# port's: the tracker's answer in the exit port's zone, before the reverse translation
# (that zone | CT_EGRESS_RETURNING when it knows the packet as travelling back).
TABLE_NAT_EGRESS = 7
EGRESS_REG = "reg4"
CT_EGRESS_RETURNING = 1 << 16
# Load balancing in the datapath (:mod:`.lbflows`).
TABLE_LB_FORWARD = 8
TABLE_LB_REPLY = 9

KIND_SHIFT = 56
ID_MASK = (1 << KIND_SHIFT) - 1
KIND_MASK = 0xFF << KIND_SHIFT

COOKIE_CLASSIFY = 0x01
COOKIE_SIMULATED = 0x02
COOKIE_DELIVERY = 0x03
COOKIE_MISS = 0x04
COOKIE_NAT_STEER = 0x05
COOKIE_CT_COPY = 0x06  # the id: the zone whose new connections are copied
COOKIE_LB = 0x07  # the id: the zone of a VIP whose members' flows these are
COOKIE_DHCP = 0x10  # a local port's DHCP to the agent (:mod:`.dhcpwire`)
COOKIE_BGP = 0x11  # an uplink's BGP and ARP to its BGP namespace (:mod:`ryu_midonet.bgp.wire`)

KIND_NAMES = {COOKIE_CLASSIFY: "classify", COOKIE_SIMULATED: "simulated",
              COOKIE_DELIVERY: "tunnel-delivery", COOKIE_MISS: "table-miss",
              COOKIE_NAT_STEER: "nat-steering", COOKIE_CT_COPY: "ct-copy",
              COOKIE_LB: "load-balancer", COOKIE_DHCP: "dhcp", COOKIE_BGP: "bgp"}

MAX_METER_ID = 0xFFFF0000  # OpenFlow 1.3's OFPM_MAX

PRIORITY_MISS = 0
PRIORITY_PORT_MISS = 1  # a local port's metered miss: above the table-miss, below flows
PRIORITY_PORT = 100
PRIORITY_FLOW = 100
# Pre-installed flows sit just above the flows built on a miss: a reactive flow with the same
# match then adds a flow instead of replacing the proactive one (both give the same decision
# for the packets they share), so its idle timeout never takes the proactive path away.
PRIORITY_PROACTIVE = 101
PRIORITY_LB = 150  # traffic to a VIP, from a member: above the simulated flows
PRIORITY_NAT_STEER = 200  # replies to this host's NAT ports: above the simulated flows
PRIORITY_LOCAL_SERVICE = 300  # what the agent answers itself (DHCP): above everything

# Action names, as OpenFlow 1.3 calls them.
OUTPUT = "output"
SET_FIELD = "set_field"
DEC_NW_TTL = "dec_nw_ttl"
PUSH_VLAN = "push_vlan"
POP_VLAN = "pop_vlan"
CT = "ct"  # Nicira extensions
CT_CLEAR = "ct_clear"
GROUP = "group"

# The packet headers a simulation may read, hence a megaflow match.
PACKET_FIELDS = frozenset({
    "eth_src", "eth_dst", "eth_type", "vlan_vid", "arp_op", "arp_spa", "arp_tpa", "arp_sha",
    "arp_tha", "ipv4_src", "ipv4_dst", "ip_proto", "ip_dscp", "ip_ecn", "ip_frag", "tcp_src",
    "tcp_dst", "udp_src", "udp_dst", "icmpv4_type", "icmpv4_code"})
# The headers a simulation may rewrite, and the tunnel metadata that names the egress port.
REWRITABLE_FIELDS = PACKET_FIELDS - {"eth_type", "ip_proto", "ip_frag"}
TUNNEL_FIELDS = frozenset({"tunnel_id", "tun_ipv4_dst"})
CONNTRACK_FIELDS = frozenset({"ct_state", "ct_zone", "ct_mark"})
REGISTERS = frozenset(f"reg{i}" for i in range(16))


class FlowRefused(ValueError):
    """A flow breaks the contract of the table it is for (or names no known table)."""


@dataclass(frozen=True)
class FlowShape:
    """What a flow does, in the terms contracts speak: fields matched, actions, gotos."""

    table_id: int
    priority: int
    match: frozenset[str]
    actions: tuple[str, ...] = ()
    set_fields: frozenset[str] = frozenset()
    goto: int | None = None
    to_controller: bool = False
    meter: bool = False
    recirculate: frozenset[int] = frozenset()  # tables its ct actions resubmit to


@dataclass(frozen=True)
class TableContract:
    """What the flows of one table may do.

    ``required`` fields must be matched by every flow except the table-miss flow (priority
    :data:`PRIORITY_MISS`, empty match), which is how a table says what it is keyed on.
    """

    table_id: int
    name: str
    matches: frozenset[str]
    required: frozenset[str] = frozenset()
    next_tables: frozenset[int] = frozenset()
    actions: frozenset[str] = frozenset()
    set_fields: frozenset[str] = frozenset()
    to_controller: bool = False
    meters: bool = False
    recirculate: frozenset[int] = frozenset()
    description: str = ""

    def violations(self, flow: FlowShape) -> list[str]:
        """Why ``flow`` may not be in this table (empty: it may)."""
        found = []
        if extra := sorted(flow.match - self.matches):
            found.append(f"matches {', '.join(extra)}")
        is_miss = flow.priority == PRIORITY_MISS and not flow.match
        if not is_miss and (missing := sorted(self.required - flow.match)):
            found.append(f"does not match {', '.join(missing)}")
        if flow.goto is not None and flow.goto not in self.next_tables:
            found.append(f"goes to table {flow.goto}")
        if extra := sorted(set(flow.actions) - self.actions):
            found.append(f"uses {', '.join(extra)}")
        if extra := sorted(flow.set_fields - self.set_fields):
            found.append(f"sets {', '.join(extra)}")
        if flow.to_controller and not self.to_controller:
            found.append("sends to the controller")
        if flow.meter and not self.meters:
            found.append("goes through a meter")
        if tables := sorted(flow.recirculate - self.recirculate):
            found.append(f"recirculates to table {', '.join(map(str, tables))}")
        return found


def with_conntrack(contract: TableContract, recirculate: Collection[int]) -> TableContract:
    """``contract`` extended to connection tracking: ``ct`` and ``ct_clear``, matches on the
    connection tracking fields and registers, registers set (a zone taken from one), and
    ``ct`` resubmitting to the tables of ``recirculate``."""
    return dataclasses.replace(
        contract, matches=contract.matches | CONNTRACK_FIELDS | REGISTERS,
        actions=contract.actions | {CT, CT_CLEAR},
        set_fields=contract.set_fields | REGISTERS,
        recirculate=contract.recirculate | frozenset(recirculate))


TABLES: dict[int, TableContract] = {c.table_id: c for c in (
    TableContract(
        TABLE_CLASSIFY, "classify", matches=frozenset({"in_port"}),
        required=frozenset({"in_port"}),
        next_tables=frozenset({TABLE_FLOWS, TABLE_TUNNEL_DELIVERY}),
        description="local ports to the flow cache, tunnel ports to delivery"),
    TableContract(
        TABLE_FLOWS, "flows", matches=PACKET_FIELDS | {"in_port"},
        required=frozenset({"in_port"}),
        actions=frozenset({OUTPUT, SET_FIELD, DEC_NW_TTL, PUSH_VLAN, POP_VLAN, CT}),
        set_fields=REWRITABLE_FIELDS | TUNNEL_FIELDS | {NAT_REG, TTL_REG}, to_controller=True,
        meters=True,
        recirculate=frozenset({TABLE_NAT_RETURN, TABLE_CT_LOOKUP, TABLE_CT_COPY,
                               TABLE_NAT_EGRESS, TABLE_LB_FORWARD, TABLE_LB_REPLY}),
        description="megaflows from simulations; misses go to the agent, metered per port"),
    TableContract(
        TABLE_TUNNEL_DELIVERY, "tunnel-delivery",
        matches=frozenset({"tunnel_id", "eth_type", "ip_proto", "ipv4_src", "ipv4_dst",
                           "tcp_src", "tcp_dst"}),
        required=frozenset({"tunnel_id"}), actions=frozenset({OUTPUT, CT}),
        next_tables=frozenset({TABLE_NAT_TUNNEL_IN}), recirculate=frozenset({TABLE_CT_COPY}),
        description="tunnel key of a local port -> that port (committing a new connection "
                    "with CT_COMMIT_BIT; only committing a copy with CT_COPY_KEY)"),
    TableContract(
        TABLE_CT_LOOKUP, "ct-lookup",
        matches=PACKET_FIELDS | {"in_port", "ct_state", "ct_zone"},
        required=frozenset({"in_port"}),
        actions=frozenset({OUTPUT, SET_FIELD, DEC_NW_TTL, PUSH_VLAN, POP_VLAN, CT}),
        set_fields=REWRITABLE_FIELDS | TUNNEL_FIELDS | {TTL_REG}, to_controller=True,
        meters=True, recirculate=frozenset({TABLE_CT_COPY}),
        description="after the tracker: decisions that know its answer; misses to the agent, "
                    "metered per port"),
    TableContract(
        TABLE_NAT_RETURN, "nat-return",
        matches=PACKET_FIELDS | {"in_port", NAT_REG, ENTRY_REG, EGRESS_REG, "ct_state",
                                 "ct_zone"},
        required=frozenset({"in_port", NAT_REG, "ct_state"}),
        actions=frozenset({OUTPUT, SET_FIELD, DEC_NW_TTL, PUSH_VLAN, POP_VLAN}),
        set_fields=REWRITABLE_FIELDS | TUNNEL_FIELDS | {TTL_REG}, to_controller=True,
        description="replies translated back by the connection tracker; misses to the agent"),
    TableContract(
        TABLE_NAT_TUNNEL_IN, "nat-tunnel-in",
        matches=frozenset({"tunnel_id", "eth_type", "ipv4_dst", "ip_proto", "tcp_dst",
                           "udp_dst", "icmpv4_type"}),
        required=frozenset({"tunnel_id", "ipv4_dst"}), actions=frozenset({SET_FIELD, CT}),
        set_fields=frozenset({NAT_REG, ENTRY_REG}),
        recirculate=frozenset({TABLE_NAT_RETURN, TABLE_NAT_EGRESS}),
        description="replies steered here from another host, through the tracker"),
    TableContract(
        TABLE_CT_COPY, "ct-copy", matches=frozenset({"in_port", "ct_state", "ct_zone"}),
        required=frozenset({"ct_state", "ct_zone"}), actions=frozenset({OUTPUT, SET_FIELD}),
        set_fields=TUNNEL_FIELDS,
        description="new connections of a scope on several hosts: copies to the others"),
    TableContract(
        TABLE_NAT_EGRESS, "nat-egress",
        matches=frozenset({"in_port", NAT_REG, ENTRY_REG, "ct_state", "ct_zone", "eth_type",
                           "ipv4_dst", "ip_proto", "tcp_dst", "udp_dst", "icmpv4_type"}),
        required=frozenset({NAT_REG, "ct_zone"}), actions=frozenset({SET_FIELD, CT}),
        set_fields=frozenset({EGRESS_REG}), recirculate=frozenset({TABLE_NAT_RETURN}),
        description="replies to NAT ports of another scope: the exit zone's answer kept"),
    TableContract(
        TABLE_LB_FORWARD, "lb-forward",
        matches=PACKET_FIELDS | {"in_port", "ct_state", "ct_zone"},
        required=frozenset({"in_port", "ct_state", "ct_zone"}),
        actions=frozenset({OUTPUT, SET_FIELD, DEC_NW_TTL, PUSH_VLAN, POP_VLAN, CT, GROUP}),
        set_fields=REWRITABLE_FIELDS | TUNNEL_FIELDS | {TTL_REG},
        recirculate=frozenset({TABLE_LB_FORWARD}),
        description="connections to a VIP after its zone's tracker: new ones to a member, "
                    "translated ones on to theirs; misses drop"),
    TableContract(
        TABLE_LB_REPLY, "lb-reply",
        matches=PACKET_FIELDS | {"in_port", "ct_state", "ct_zone"},
        required=frozenset({"in_port", "ct_state", "ct_zone"}),
        actions=frozenset({OUTPUT, SET_FIELD, DEC_NW_TTL, PUSH_VLAN, POP_VLAN, CT}),
        set_fields=REWRITABLE_FIELDS | TUNNEL_FIELDS | {TTL_REG}, to_controller=True,
        description="from a member after its VIP's zone's tracker: balanced replies and the "
                    "rest; misses to the agent"),
)}

TABLE_NAMES = {table_id: contract.name for table_id, contract in TABLES.items()}


def check(flow: FlowShape, tables: Mapping[int, TableContract] = TABLES) -> None:
    """Raise :class:`FlowRefused` unless ``flow`` keeps its table's contract (in ``tables``,
    the pipeline's by default)."""
    contract = tables.get(flow.table_id)
    if contract is None:
        raise FlowRefused(f"table {flow.table_id} is not in the pipeline")
    found = contract.violations(flow)
    if found:
        raise FlowRefused(f"a flow for table {flow.table_id} ({contract.name}) "
                          + "; ".join(found))


def shape(table_id: int, priority: int, match: Collection[str], *,
          actions: Collection[str] = (), set_fields: Collection[str] = (),
          goto: int | None = None, to_controller: bool = False,
          meter: bool = False, recirculate: Collection[int] = ()) -> FlowShape:
    """A :class:`FlowShape` from any collections."""
    return FlowShape(table_id, priority, frozenset(match), tuple(actions),
                     frozenset(set_fields), goto, to_controller, meter, frozenset(recirculate))


def cookie(kind: int, ident: int = 0) -> int:
    """The cookie of a flow of ``kind`` for ``ident`` (a tunnel key or a sequence number)."""
    return (kind << KIND_SHIFT) | (ident & ID_MASK)


def meter_id(tunnel_key: int) -> int:
    """The id of the meter of the local port whose tunnel key is ``tunnel_key``."""
    if not 0 < tunnel_key <= MAX_METER_ID:
        raise ValueError(f"tunnel key {tunnel_key} is no meter id")
    return tunnel_key


def describe_cookie(value: int) -> str:
    """Operator-readable meaning of a cookie, e.g. ``simulated #42``."""
    kind = KIND_NAMES.get(value >> KIND_SHIFT, f"kind {value >> KIND_SHIFT:#x}")
    return f"{kind} #{value & ID_MASK}"
