"""NAT on router ``r``: the cases, the address plan and the rules each case puts in place.

No peer of the benchmark does NAT, so these cases are compared with ryu-midonet's own plain
routed path between the same VMs, ``routed, cross host``, measured in the same run with no
chain on the router. As there, vm1 (h1, 10.0.1.11, on net1, the inside) opens the
connections and vm4 (h2, 10.0.2.14, on net2, the outside) serves them:

* floating IP: vm1 connects to vm4's floating IP. Router ``r``'s inbound (pre-routing) chain
  DNATs the floating IP to 10.0.2.14; its outbound (post-routing) chain SNATs 10.0.2.14 back to
  the floating IP. Static NAT: one address, no ports.
* dynamic SNAT: vm1 connects to 10.0.2.14; the outbound chain masquerades whatever leaves by
  the router's net2 port to the gateway address, ports 1-65535; the inbound chain reverses it
  (REV_SNAT for the gateway address).
* each again with 99 drop rules ahead of the NAT rule in the inbound chain (100 rules), with
  conditions on addresses, protocol and ports that no packet of the benchmark matches. Both
  directions of every connection enter the router, so both pass the 100 rules.

Every case uses its own NAT address, so that a connection seen through it (see
:func:`ryu_midonet.bench.measure.wait_seen_as`) proves that both hosts' agents apply this
case's chains and no longer the previous case's. Nothing is set up while the other cases run.

Every case also has a server port of its own. vm4 keeps a TIME_WAIT socket for every
connection it served (it closes first). Through a floating IP, vm4 sees the same addresses and
ports as without NAT, but vm1's TCP timestamps, whose offset depends on the destination
address, are not those of the earlier connections: vm4 would refuse a SYN that reuses such a
4-tuple, and the client would wait for a retransmission, which measures the sandbox's TIME_WAIT
sockets instead of the data path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ryu_midonet.bench import layout

FLOATING = "fip"
MASQUERADE = "snat"
CHAIN_LENGTH = 100
# Addresses no VM, router port or NAT address of the benchmark has.
UNUSED_PREFIXES = ("192.0.2.0/24", "203.0.113.0/24", "10.96.0.0/11")
INSIDE = layout.vm_plan(layout.ROUTED_CROSS.src)
OUTSIDE = layout.vm_plan(layout.ROUTED_CROSS.dst)


@dataclass(frozen=True)
class NatCase(layout.Case):
    kind: str = FLOATING
    nat_address: str = ""  # the floating IP, or the address connections are masqueraded to
    filler: int = 0  # drop rules that never match, ahead of the NAT rule in the inbound chain

    @property
    def detail(self) -> str:
        if self.kind == FLOATING:
            text = (f"{self.src} ({INSIDE.host}, {INSIDE.ip}) connects to {self.nat_address}, "
                    f"the floating IP of {self.dst} ({OUTSIDE.host}, {OUTSIDE.ip}); router r: "
                    f"DNAT {self.nat_address} -> {OUTSIDE.ip} in its inbound chain, SNAT "
                    f"{OUTSIDE.ip} -> {self.nat_address} in its outbound chain (static, no "
                    "ports)")
        else:
            text = (f"{self.src} ({INSIDE.host}, {INSIDE.ip}) connects to {self.dst} "
                    f"({OUTSIDE.host}, {OUTSIDE.ip}); router r: SNAT of everything leaving by "
                    f"its net2 port to {self.nat_address}, ports 1-65535, in its outbound "
                    f"chain, REV_SNAT for {self.nat_address} in its inbound chain")
        text += f"; vm4 serves on TCP port {self.port}"
        if self.filler:
            text += (f"; {self.filler} drop rules ahead of the "
                     f"{'DNAT' if self.kind == FLOATING else 'REV_SNAT'} rule in the inbound "
                     f"chain ({self.filler + 1} rules) match addresses in "
                     f"{', '.join(UNUSED_PREFIXES)}, with or without protocol and port "
                     "conditions, and never this traffic")
        return text


def _case(key: str, label: str, kind: str, nat_address: str, filler: int,
          port: int) -> NatCase:
    seen_as = nat_address if kind == MASQUERADE else ""
    address = nat_address if kind == FLOATING else ""
    return NatCase(key, label, INSIDE.name, OUTSIDE.name, address=address, source=seen_as,
                   port=port, baseline=layout.ROUTED_CROSS.key, kind=kind,
                   nat_address=nat_address, filler=filler)


FIP = _case("nat-fip", "floating IP, cross host", FLOATING, "198.51.100.14", 0, 5011)
FIP_CHAIN = _case("nat-fip-chain", f"floating IP + {CHAIN_LENGTH} rules, cross host", FLOATING,
                  "198.51.100.114", CHAIN_LENGTH - 1, 5012)
SNAT = _case("nat-snat", "dynamic SNAT, cross host", MASQUERADE, "198.51.100.2", 0, 5013)
SNAT_CHAIN = _case("nat-snat-chain", f"dynamic SNAT + {CHAIN_LENGTH} rules, cross host",
                   MASQUERADE, "198.51.100.3", CHAIN_LENGTH - 1, 5014)
CASES = (FIP, FIP_CHAIN, SNAT, SNAT_CHAIN)


def filler_rules(count: int) -> list[dict[str, Any]]:
    """``count`` drop rules, each on an address in :data:`UNUSED_PREFIXES`, in four shapes:
    a source /32; a destination /32 with TCP and one destination port; a source /16 with UDP
    and a range of source ports; a destination /32 with TCP and source ports 1-1023."""
    rules: list[dict[str, Any]] = []
    for i in range(count):
        shape, n = i % 4, i // 4
        rule: dict[str, Any] = {"type": "drop"}
        if shape == 0:
            rule |= {"nwSrcAddress": f"192.0.2.{n}", "nwSrcLength": 32}
        elif shape == 1:
            rule |= {"nwDstAddress": f"203.0.113.{n}", "nwDstLength": 32, "nwProto": 6,
                     "tpDst": {"start": 1024 + n, "end": 1024 + n}}
        elif shape == 2:
            rule |= {"nwSrcAddress": f"10.{100 + n}.0.0", "nwSrcLength": 16, "nwProto": 17,
                     "tpSrc": {"start": 2000 + 10 * n, "end": 2009 + 10 * n}}
        else:
            rule |= {"nwDstAddress": f"192.0.2.{128 + n}", "nwDstLength": 32, "nwProto": 6,
                     "tpSrc": {"start": 1, "end": 1023}}
        rules.append(rule)
    return rules


def _target(address: str, ports: tuple[int, int] = (0, 0)) -> list[dict[str, Any]]:
    return [{"addressFrom": address, "addressTo": address, "portFrom": ports[0],
             "portTo": ports[1]}]


def chains(case: NatCase, uplink_port_id: str) -> tuple[list[dict[str, Any]],
                                                         list[dict[str, Any]]]:
    """The rules of router ``r``'s inbound and outbound chains for ``case``, in order.

    ``uplink_port_id`` is the router's port on the outside subnet (net2).
    """
    if case.kind == FLOATING:
        last_in = {"type": "dnat", "flowAction": "accept", "nwDstAddress": case.nat_address,
                   "nwDstLength": 32, "natTargets": _target(OUTSIDE.ip)}
        outbound = [{"type": "snat", "flowAction": "accept", "nwSrcAddress": OUTSIDE.ip,
                     "nwSrcLength": 32, "natTargets": _target(case.nat_address)}]
    else:
        last_in = {"type": "rev_snat", "flowAction": "accept",
                   "nwDstAddress": case.nat_address, "nwDstLength": 32}
        outbound = [{"type": "snat", "flowAction": "accept", "outPorts": [uplink_port_id],
                     "natTargets": _target(case.nat_address, (1, 65535))}]
    return [*filler_rules(case.filler), last_in], outbound
