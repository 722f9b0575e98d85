"""What a running bgpd says, read from ``vtysh`` JSON: its sessions and its learned routes.

Parsing never raises: text that is not the JSON expected gives no sessions and no routes.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

ESTABLISHED = "Established"


@dataclass(frozen=True)
class Session:
    """One peer's session: its BGP state and how many prefixes it gave."""

    state: str
    prefixes: int


@dataclass(frozen=True, order=True)
class Learned:
    """A best path learned from a peer: the prefix and the peer that is its next hop."""

    prefix: str
    next_hop: str


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


def sessions(text: str) -> dict[str, Session]:
    """``show bgp summary json`` -> peer address -> :class:`Session`."""
    data = _load(text)
    if not isinstance(data, dict):
        return {}
    family = data.get("ipv4Unicast")
    peers = family.get("peers") if isinstance(family, dict) else None
    if not isinstance(peers, dict):
        return {}
    out = {}
    for address, info in peers.items():
        if not isinstance(info, dict):
            continue
        state = info.get("state")
        count = info.get("pfxRcd")
        out[str(address)] = Session(
            state if isinstance(state, str) else "Unknown",
            count if isinstance(count, int) and state == ESTABLISHED else 0)
    return out


def learned(text: str) -> list[Learned]:
    """``show ip bgp json`` -> the valid best paths learned from peers (not the speaker's own
    networks), each with the address of the peer it came from as next hop."""
    data = _load(text)
    routes = data.get("routes") if isinstance(data, dict) else None
    if not isinstance(routes, dict):
        return []
    out = set()
    for prefix, paths in routes.items():
        try:
            net = str(ipaddress.IPv4Network(prefix))
        except (ValueError, TypeError):
            continue
        for path in paths if isinstance(paths, list) else []:
            if not isinstance(path, dict) or not path.get("valid") or not path.get("bestpath"):
                continue
            hop = _next_hop(path)
            if hop is not None:
                out.add(Learned(net, hop))
    return sorted(out)


def _next_hop(path: dict[str, Any]) -> str | None:
    candidates = [h.get("ip") for h in path.get("nexthops") or [] if isinstance(h, dict)]
    candidates.append(path.get("peerId"))
    for hop in candidates:
        try:
            addr = ipaddress.IPv4Address(hop)
        except (ValueError, TypeError):
            continue
        if not addr.is_unspecified:
            return str(addr)
    return None
