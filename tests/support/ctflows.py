"""A stateful pipeline built from flow specs: source NAT from an inside port to an outside
one through Open vSwitch's connection tracker, for the fake switch and a real one alike.

Table 0 sends both ports to table 1, whose contract is extended to connection tracking
(:data:`CT_TABLES`). In table 1:

- an untracked packet gets its zone in ``reg6`` and goes through ``ct(zone=reg6, nat,
  table=1)``: a known connection gets its translation (forward) or its reverse (replies,
  related ICMP errors);
- a new connection from inside to a translated service (protocol, destination address and
  port) is marked in ``reg0``, committed with its ``nat(src=...)`` or ``nat(dst=...)`` and
  resubmitted: out when translated (``+snat``/``+dnat``), dropped when no translation was
  free; the connection is committed with ``ct_mark`` :data:`MARK`;
- established forward packets go out; replies (``+rpl``: established or related) go in;
  both only with the mark; anything else tracked is dropped.

The switch routes between two subnets: it rewrites MAC addresses and the hosts have static
neighbours for the gateway (and, outside, for the NAT address).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.flows import (
    Action,
    FlowSpec,
    Nat,
    ct,
    ct_state,
    goto,
    output,
    set_field,
)

CT_TABLES = {**p.TABLES, p.TABLE_FLOWS: p.with_conntrack(p.TABLES[p.TABLE_FLOWS],
                                                          {p.TABLE_FLOWS})}
GATEWAY_MAC = "02:00:00:00:93:fe"
COMMITTING = "reg0"  # 1: the packet was committed with its NAT and resubmitted
ZONE = "reg6"  # the connection tracking zone
MARK = 0x5A
IP = {"eth_type": 0x0800}
_L4 = {6: "tcp_dst", 17: "udp_dst"}


@dataclass(frozen=True)
class Side:
    """One end: its switch port, MAC and IPv4 address."""

    port: int
    mac: str
    ip: str


def snat_flows(inside: Side, outside: Side, services: list[tuple[int, int, Nat]],
               zone: int = 7, virtual: str | None = None) -> list[FlowSpec]:
    """The pipeline of the module docstring; ``services`` are (IP protocol, destination
    port, NAT) for connections from ``inside`` to ``outside`` (to ``virtual`` instead, for
    a destination NAT)."""
    table = p.TABLE_FLOWS
    to_out: tuple[Action, ...] = (set_field("eth_src", GATEWAY_MAC),
                                  set_field("eth_dst", outside.mac))
    to_in: tuple[Action, ...] = (set_field("eth_src", GATEWAY_MAC),
                                 set_field("eth_dst", inside.mac))
    flows = [FlowSpec(p.TABLE_CLASSIFY, p.PRIORITY_PORT, {"in_port": side.port},
                      (goto(table),)) for side in (inside, outside)]
    for side in (inside, outside):
        flows.append(FlowSpec(table, 300, {"in_port": side.port, **IP,
                                           "ct_state": ct_state(trk=False)},
                              (set_field(ZONE, zone), ct(zone=ZONE, nat=Nat(), table=table))))
        flows.append(FlowSpec(table, 100, {"in_port": side.port, **IP,
                                           "ct_state": ct_state(trk=True)}))
    for proto, port, nat in services:
        dst = outside.ip if nat.kind == "src" or virtual is None else virtual
        new = {"in_port": inside.port, **IP, "ip_proto": proto, "ipv4_dst": dst,
               _L4[proto]: port, "ct_state": ct_state(trk=True, new=True)}
        done = ct_state(trk=True, new=True, **{"snat" if nat.kind == "src" else "dnat": True})
        flows += [
            FlowSpec(table, 200, {**new, COMMITTING: 0}, (
                set_field(COMMITTING, 1),
                ct(commit=True, zone=ZONE, nat=nat, table=table, mark=MARK))),
            FlowSpec(table, 210, {"in_port": inside.port, **IP, "ip_proto": proto,
                                  COMMITTING: 1, "ct_state": done},
                     (*to_out, output(outside.port))),
        ]
    flows += [
        FlowSpec(table, 200, {"in_port": inside.port, **IP, "ct_mark": MARK,
                              "ct_state": ct_state(trk=True, est=True, rpl=False)},
                 (*to_out, output(outside.port))),
        FlowSpec(table, 200, {"in_port": outside.port, **IP, "ct_mark": MARK,
                              "ct_state": ct_state(trk=True, rpl=True)},
                 (*to_in, output(inside.port))),
    ]
    return flows


def tcp(src: Side, dst_ip: str, sport: int, dport: int, flags: int,
        dst_mac: str = GATEWAY_MAC) -> dict[str, Any]:
    """A TCP segment entering the switch at ``src``'s port, as the fake switch takes it."""
    return {"in_port": src.port, "eth_src": src.mac, "eth_dst": dst_mac, **IP,
            "ipv4_src": src.ip, "ipv4_dst": dst_ip, "ip_proto": 6, "tcp_src": sport,
            "tcp_dst": dport, "tcp_flags": flags}
