"""What the simulator takes and gives: packets, and the decision taken for a packet.

Header field names are the OpenFlow 1.3 OXM names (``eth_src``, ``ipv4_dst``, ``tcp_dst``...),
so the flow translator can turn a decision into a match without a mapping table; the
simulator itself knows nothing of OpenFlow.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from ryu_midonet.sim.core.trace import TraceStep, render

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_IPV6 = 0x86DD
IP_ICMP, IP_TCP, IP_UDP = 1, 6, 17

# Every header field a packet may carry, in the order a flow match lists them.
FIELDS = (
    "eth_src", "eth_dst", "vlan_vid", "vlan_pcp", "eth_type",
    "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha",
    "ipv4_src", "ipv4_dst", "ip_proto", "ip_dscp", "ip_ecn", "nw_ttl", "ip_frag",
    "tcp_src", "tcp_dst", "udp_src", "udp_dst", "icmpv4_type", "icmpv4_code",
)


@dataclass(frozen=True)
class Packet:
    """The headers of one packet (None: the packet has no such header)."""

    eth_src: str
    eth_dst: str
    eth_type: int
    vlan_vid: int | None = None
    vlan_pcp: int | None = None  # the tag's priority (service insertion: the direction)
    arp_op: int | None = None
    arp_spa: str | None = None
    arp_tpa: str | None = None
    arp_sha: str | None = None
    arp_tha: str | None = None
    ipv4_src: str | None = None
    ipv4_dst: str | None = None
    ip_proto: int | None = None
    ip_dscp: int | None = None
    ip_ecn: int | None = None
    nw_ttl: int | None = None
    ip_frag: str | None = None  # None/"no": unfragmented, "first", "later"
    tcp_src: int | None = None
    tcp_dst: int | None = None
    udp_src: int | None = None
    udp_dst: int | None = None
    icmpv4_type: int | None = None
    icmpv4_code: int | None = None
    payload: bytes = b""  # L4 payload, only when an answer must echo it (ICMP)
    # The first 8 bytes of the L4 header as received, when known: an ICMP error quotes them
    # (a TCP sender checks the quoted sequence number). Without them the quote is rebuilt from
    # the port fields.
    l4_head: bytes = b""

    def replace(self, **changes: Any) -> Packet:
        if not changes.keys() <= _PACKET_FIELDS:
            return dataclasses.replace(self, **changes)  # refuses the unknown names
        # what dataclasses.replace does, without calling __init__ field by field
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    def headers(self) -> dict[str, Any]:
        """The fields that are present, by name."""
        return {f: getattr(self, f) for f in FIELDS if getattr(self, f) is not None}


_PACKET_FIELDS = frozenset(f.name for f in dataclasses.fields(Packet))


class RewriteOp(StrEnum):
    """The header changes a result may ask for; the flow translator handles every one."""

    SET = "set"  # set ``field`` to ``value``
    DEC_TTL = "dec_ttl"
    PUSH_VLAN = "push_vlan"  # add an 802.1Q header; the ``set`` of ``vlan_vid`` that follows
    POP_VLAN = "pop_vlan"  # gives its VLAN id
    DATAPATH_SNAT = "datapath_snat"  # ``value``: a :class:`DatapathSnat`
    ARP_REPLY = "arp_reply"  # ``value``: an :class:`ArpAnswer`; the request becomes its reply


@dataclass(frozen=True)
class DatapathSnat:
    """Source NAT the datapath does per connection: it tracks the connection in flow-state
    ``scope``, translates its source to ``ip`` and a free port of ``port_from..port_to``
    (this host's range) and its replies back."""

    scope: str
    ip: str
    port_from: int
    port_to: int


@dataclass(frozen=True)
class ArpAnswer:
    """An ARP request answered where it entered (an ARP responder in the datapath): ``ip``
    is at ``mac``, told to the asker (``asker_mac``, ``asker_ip``). The request becomes the
    reply: the headers of :meth:`headers` are set, and it leaves by the port it came in by."""

    mac: str
    ip: str
    asker_mac: str
    asker_ip: str

    def headers(self) -> dict[str, Any]:
        """The header values of the reply (every other header is the request's)."""
        return {"eth_src": self.mac, "eth_dst": self.asker_mac, "arp_op": 2,
                "arp_sha": self.mac, "arp_spa": self.ip, "arp_tha": self.asker_mac,
                "arp_tpa": self.asker_ip}


@dataclass(frozen=True)
class DatapathReply:
    """A reply the datapath already translated back (reverse source NAT): its destination
    was ``ip``:``port`` before the connection's source NAT."""

    ip: str
    port: int


@dataclass(frozen=True)
class DatapathCt:
    """Connection tracking by the datapath's tracker (where it can answer): ``returning`` is
    its answer for the packet, whether it belongs to a known connection travelling back
    (None: the packet has not been through the tracker yet). ``scope``: the answer is the
    zone of this flow-state scope's (a reply back through the tracker of its source NAT);
    None: the zone of the ingress port's scope. ``egress``: (scope, returning), the answer
    in the zone of the scope of the port the connection left by, asked before the reverse
    translation (a source NAT in another scope than that port's)."""

    returning: bool | None = None
    scope: str | None = None
    egress: tuple[str, bool] | None = None


@dataclass(frozen=True)
class Rewrite:
    """One header change applied on the way out (an unknown ``op`` is refused)."""

    op: RewriteOp
    field: str | None = None
    value: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "op", RewriteOp(self.op))


@dataclass(frozen=True)
class Output:
    """Send the (rewritten) packet out of exterior virtual port ``port_id``."""

    port_id: str
    rewrites: tuple[Rewrite, ...] = ()
    # The datapath's tracker records the (new) connection as the packet leaves, in the zone of
    # this flow-state scope (connection tracking in the datapath).
    commit: str | None = None
    # The scope's ports are bound on several hosts: the commit goes to their trackers too.
    copy: bool = False


@dataclass(frozen=True)
class Emit:
    """A packet the virtual topology generates (ARP reply/request, ICMP), out of ``port_id``.

    ``port_id`` is an exterior port: a generated packet sent into an interior link is walked on
    through the topology by the simulator, and emitted where it leaves it, with ``packet``'s
    headers as they are there.
    """

    port_id: str
    packet: Packet


@dataclass(frozen=True)
class ArpWait:
    """The packet is held until router ``router_id`` resolves ``ip`` out of ``port_id``.

    The router has sent an ARP request for ``ip``; the entry it waits for is the one tagged
    ``arp:<router_id>:<ip>`` (:func:`ryu_midonet.sim.state.arp_tag`).
    """

    router_id: str
    port_id: str
    ip: str


class MacLearning(NamedTuple):
    """A bridge learned (or refreshed) that ``mac`` on ``vlan`` sits behind ``port_id``."""

    bridge_id: str
    mac: str
    vlan: int | None
    port_id: str


@dataclass
class Result:
    """The decision for one packet entering the virtual topology at an exterior port.

    ``outputs`` empty means drop. ``fields_read`` names the header fields the decision depended
    on: a flow matching only those (plus the ingress port) gives the same decision for every
    packet it matches. ``tags`` are the ids of everything the decision depended on (devices,
    ports, routes, chains, MAC/ARP entries as ``mac:<bridge>:<mac>``/``arp:<router>:<ip>``),
    so that a change to any of them can remove exactly the flows built from it. With
    ``cacheable`` False no flow may be installed (e.g. the answer depends on state that is
    about to change, like an ARP resolution in progress).

    ``state_keys`` are the flow-state entries (connection tracking, NAT: :mod:`.flowstate`)
    the decision created or relies on: while a flow built from this result lives, the agent
    refreshes them (``State.flows.refresh``), since packets the flow handles no longer reach
    the agent; the decision's tags include the entries whose appearance or expiry changes it.

    ``ct_scope`` is the flow-state scope in whose zone the datapath's connection tracker
    looked the packet up at ingress (connection tracking in the datapath), and ``ct_return``
    its answer the decision relied on; ``ct_scope`` without ``ct_return`` means the decision
    needs that answer first (no outputs: the packet goes through the tracker, then is
    simulated again).

    ``waiting`` lists the next hops whose ARP resolution the packet waits for: the packet was
    not delivered there (and the result is not cacheable), but its sender should hold it and
    simulate it again when the ARP entry appears, as a router holds packets for an unresolved
    neighbour.

    ``ttl_decrements`` is the most TTL decrements on any one path of the packet, up to where it
    left the topology or was dropped: a flow must decrement the TTL as often (even where it
    drops the packet), so that a packet whose TTL runs out on the way still reaches the agent
    for the router's ICMP time exceeded.

    ``learned`` lists the MAC learning the simulation did as a side effect (already written to
    the MAC table). Learning is not a decision input, so ``eth_src`` is not in ``fields_read``;
    but once a flow is installed the packets it matches no longer reach the agent, so the agent
    refreshes these entries for as long as flows built from this result live (MAC entries age
    out otherwise), and a flow built from a result with ``learned`` entries should match
    ``eth_src`` so that a new source behind the same port is seen and learned.
    """

    outputs: list[Output] = field(default_factory=list)
    emits: list[Emit] = field(default_factory=list)
    fields_read: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    cacheable: bool = True
    steps: list[TraceStep] = field(default_factory=list)  # what happened, for tracing
    learned: list[MacLearning] = field(default_factory=list)
    state_keys: set[str] = field(default_factory=set)
    waiting: list[ArpWait] = field(default_factory=list)
    ttl_decrements: int = 0
    ct_scope: str | None = None
    ct_return: bool | None = None

    @property
    def dropped(self) -> bool:
        return not self.outputs

    @property
    def trace(self) -> list[str]:
        """The steps as text, one line each."""
        return render(self.steps)
