"""BGP peers and networks of routers (``router router0 add bgp-peer asn 64514 address ...``).

Attributes follow MidoNet's CLI: peers have ``asn``, ``address``, ``keep-alive``, ``hold-time``,
``connect-retry`` and ``password``; networks have ``net``. Unset timers (the agent's defaults)
are left out of listings, and the password, which the API never returns, is never printed.
Read-only: ``state`` (the session's BGP state) and ``learned-routes`` (how many routes the peer
gave), from the ``status`` the agent running the session writes; absent until it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import Collection, ObjType, parent_id

AS_MAX = 4294967295
TIMER_MAX = 65535



@dataclass(frozen=True)
class _Status(a.Attr):
    """One entry of the peer's read-only ``status``."""

    key: str = "state"

    def value(self, dto: a.Dto, ctx: a.RefContext) -> str | None:
        status = dto.get("status")
        raw = status.get(self.key) if isinstance(status, dict) else None
        return None if raw is None else str(raw)


BGP_PEER = ObjType("bgp-peer", "peer", "peer", (
    ID,
    a.Int("asn", "asNumber", lo=1, hi=AS_MAX),
    a.Ip("address", "address", version=4),
    a.Int("keep-alive", "keepAlive", lo=1, hi=TIMER_MAX, clearable=True),
    a.Int("hold-time", "holdTime", lo=0, hi=TIMER_MAX, clearable=True),
    a.Int("connect-retry", "connectRetry", lo=1, hi=TIMER_MAX, clearable=True),
    a.Attr("password", "password", show=False, clearable=True),
    _Status("state", writable=False, key="state"),
    _Status("learned-routes", writable=False, key="learnedRoutes"),
), required=("asn", "address"))

BGP_NETWORK = ObjType("bgp-network", "net", "net", (
    ID,
    a.Cidr("net", "subnetAddress", len_field="subnetLength"),
), required=("net",))

PEERS = Collection(
    "bgp-peer", (BGP_PEER,), lambda r: f"routers/{parent_id(r)}/bgp_peers",
    lambda r, x: f"bgp_peers/{x['id']}", create_path=lambda r: f"routers/{parent_id(r)}/bgp_peers")
"""A router's BGP peers (a child collection of routers)."""

NETWORKS = Collection(
    "bgp-network", (BGP_NETWORK,), lambda r: f"routers/{parent_id(r)}/bgp_networks",
    lambda r, x: f"bgp_networks/{x['id']}",
    create_path=lambda r: f"routers/{parent_id(r)}/bgp_networks")
"""A router's advertised BGP networks (a child collection of routers)."""
