"""An in-memory OpenFlow 1.3 switch for tests: applies flow specs and forwards packets.

It models what the pipeline uses: exact and masked matches on header fields, priorities,
``goto``, ``set_field``, ``dec_ttl`` (expired TTL goes to the controller, as Open vSwitch
does), ``output`` and cookie-based deletion. Packets are header dicts (OXM names plus
``in_port``, ``tunnel_id``, ``tun_ipv4_dst``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message
from ryu_midonet.datapath.translator import IP_FRAG_BITS

Headers = dict[str, Any]


@dataclass
class Forwarded:
    """Where a packet went: out of ports (with the headers it left with), or to the agent."""

    outputs: list[tuple[int | str, Headers]] = field(default_factory=list)
    to_controller: bool = False
    flows_hit: list[FlowSpec] = field(default_factory=list)


class FakeSwitch:
    def __init__(self) -> None:
        self.flows: list[FlowSpec] = []
        self.packet_ins = 0

    def apply(self, messages: list[Message]) -> None:
        for msg in messages:
            if isinstance(msg, FlowSpec):
                self.flows = [f for f in self.flows if not _same_entry(f, msg)]
                self.flows.append(msg)
            elif isinstance(msg, FlowDelete):
                self.flows = [f for f in self.flows if (f.cookie & msg.mask) != (msg.cookie
                                                                                 & msg.mask)]

    def table(self, table_id: int) -> list[FlowSpec]:
        return [f for f in self.flows if f.table == table_id]

    def lookup(self, table_id: int, headers: Headers) -> FlowSpec | None:
        best = None
        for flow in self.table(table_id):
            if _matches(flow.match, headers) and (best is None or flow.priority > best.priority):
                best = flow
        return best

    def process(self, headers: Headers, table_id: int = 0) -> Forwarded:
        """Run a packet through the tables, starting at ``table_id``."""
        result = Forwarded()
        pkt = dict(headers)
        while True:
            flow = self.lookup(table_id, pkt)
            if flow is None:
                return result  # table miss without a miss flow: drop
            result.flows_hit.append(flow)
            next_table = None
            for action in flow.actions:
                if action.kind == "goto":
                    next_table = action.args[0]
                elif action.kind == "set_field":
                    pkt[action.args[0]] = action.args[1]
                elif action.kind == "dec_ttl":
                    if pkt.get("nw_ttl", 64) <= 1:
                        result.to_controller = True
                        self.packet_ins += 1
                        return result
                    pkt["nw_ttl"] = pkt.get("nw_ttl", 64) - 1
                elif action.kind == "output":
                    port = action.args[0]
                    if port == "controller":
                        result.to_controller = True
                        self.packet_ins += 1
                    else:
                        result.outputs.append((port, dict(pkt)))
            if next_table is None:
                return result
            table_id = next_table


def _same_entry(a: FlowSpec, b: FlowSpec) -> bool:
    return a.table == b.table and a.priority == b.priority and a.match == b.match


def _matches(match: dict[str, Any], headers: Headers) -> bool:
    for name, want in match.items():
        have = headers.get(name)
        if name == "vlan_vid" and have is not None:
            have |= 0x1000
        if name == "ip_frag" and isinstance(have, str | None):
            have = IP_FRAG_BITS[have or "no"]
        if isinstance(want, tuple):
            value, mask = want
            if have is None or (_as_int(have) & mask) != (_as_int(value) & mask):
                return False
        elif have != want:
            return False
    return True


def _as_int(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and ":" in value:
        return int(value.replace(":", ""), 16)
    if isinstance(value, str) and "." in value:
        parts = [int(x) for x in value.split(".")]
        return (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
    return int(value)
