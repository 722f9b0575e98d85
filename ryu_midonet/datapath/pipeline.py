"""The per-host OpenFlow 1.3 pipeline: tables and cookies.

=====  ================  ===============================================================
table  name              what it holds
=====  ================  ===============================================================
0      classify          one flow per bound local port (``in_port`` -> table 1) and one
                         per tunnel port (-> table 2); anything else is dropped
1      flows             the flow cache: flows built from simulation results (megaflows);
                         its table-miss flow sends the packet to the agent
2      tunnel-delivery   ``tunnel_id`` = tunnel key of a local port -> out of that port,
                         installed when the port is bound; no simulation on egress hosts
=====  ================  ===============================================================

Cookies say what installed a flow: the top byte is the kind, the rest an id. Classification
and delivery flows carry the port's tunnel key, so ``cookie=0x0100000000000007`` is the
classification flow of the port whose tunnel key is 7; simulated flows carry a sequence
number the agent maps to the devices, ports, routes and MAC/ARP entries the flow was built
from, and removes when any of them changes.
"""

from __future__ import annotations

TABLE_CLASSIFY = 0
TABLE_FLOWS = 1
TABLE_TUNNEL_DELIVERY = 2

TABLE_NAMES = {TABLE_CLASSIFY: "classify", TABLE_FLOWS: "flows",
               TABLE_TUNNEL_DELIVERY: "tunnel-delivery"}

KIND_SHIFT = 56
ID_MASK = (1 << KIND_SHIFT) - 1
KIND_MASK = 0xFF << KIND_SHIFT

COOKIE_CLASSIFY = 0x01
COOKIE_SIMULATED = 0x02
COOKIE_DELIVERY = 0x03
COOKIE_MISS = 0x04

KIND_NAMES = {COOKIE_CLASSIFY: "classify", COOKIE_SIMULATED: "simulated",
              COOKIE_DELIVERY: "tunnel-delivery", COOKIE_MISS: "table-miss"}

PRIORITY_MISS = 0
PRIORITY_PORT = 100
PRIORITY_FLOW = 100


def cookie(kind: int, ident: int = 0) -> int:
    """The cookie of a flow of ``kind`` for ``ident`` (a tunnel key or a sequence number)."""
    return (kind << KIND_SHIFT) | (ident & ID_MASK)


def describe_cookie(value: int) -> str:
    """Operator-readable meaning of a cookie, e.g. ``simulated #42``."""
    kind = KIND_NAMES.get(value >> KIND_SHIFT, f"kind {value >> KIND_SHIFT:#x}")
    return f"{kind} #{value & ID_MASK}"
