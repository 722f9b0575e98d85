"""What a running bgpd says, read from ``vtysh`` JSON: its sessions and its learned routes.

Parsing never raises: text that is not the JSON expected gives no sessions and no routes.
:class:`Reader` asks bgpd for its routes only when its table or sessions moved (and now
and then), so a full table costs little while it stays the same.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Callable, Sequence
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
        net = _network(prefix) if isinstance(prefix, str) else None
        if net is None:
            continue
        for path in paths if isinstance(paths, list) else []:
            if not isinstance(path, dict) or not path.get("valid") or not path.get("bestpath"):
                continue
            hop = _next_hop(path)
            if hop is not None:
                out.add(Learned(net, hop))
    return sorted(out, key=lambda r: (r.prefix, r.next_hop))


# Parsed once per process: a full table comes back with every read.
@functools.lru_cache(maxsize=1 << 17)
def _network(prefix: str) -> str | None:
    try:
        return str(ipaddress.IPv4Network(prefix))
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def _address(hop: str) -> str | None:
    try:
        addr = ipaddress.IPv4Address(hop)
    except ValueError:
        return None
    return None if addr.is_unspecified else str(addr)


def _next_hop(path: dict[str, Any]) -> str | None:
    candidates = [h.get("ip") for h in path.get("nexthops") or [] if isinstance(h, dict)]
    candidates.append(path.get("peerId"))
    for hop in candidates:
        addr = _address(hop) if isinstance(hop, str) else None
        if addr is not None:
            return addr
    return None


def table_version(text: str) -> int | None:
    """``show bgp summary json`` -> the version of bgpd's IPv4 table (it moves with every
    change of a best path), ``None`` when not given."""
    data = _load(text)
    family = data.get("ipv4Unicast") if isinstance(data, dict) else None
    version = family.get("tableVersion") if isinstance(family, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


Vtysh = Callable[[Sequence[str]], "str | None"]
REFRESH = 10  # reads of the summary alone before the routes are read anyway


class Reader:
    """Reads one bgpd each poll: its sessions, and its learned routes when its table version
    or a session (state, prefixes received) moved since the last read, the bgpd is another
    one, or :data:`REFRESH` reads went by without one."""

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._learned: list[Learned] = []
        self._skipped = 0

    def read(self, vtysh: Vtysh, daemon: object) -> tuple[dict[str, Session], list[Learned]]:
        """The sessions and learned routes of bgpd ``daemon`` (anything that differs for
        another bgpd, e.g. its PID), asked through ``vtysh``; a failed read of the routes
        gives the last ones read and is tried again at the next call."""
        summary = vtysh(["show bgp summary json"]) or ""
        found = sessions(summary)
        version = table_version(summary)
        key = None if version is None else (daemon, version, tuple(sorted(found.items())))
        if key is not None and key == self._key and self._skipped < REFRESH:
            self._skipped += 1
            return found, list(self._learned)
        text = vtysh(["show ip bgp json"])
        data = _load(text or "")
        if not isinstance(data, dict) or not isinstance(data.get("routes"), dict):
            self._key = None  # not the answer expected: ask again next time
            return found, list(self._learned)
        self._learned, self._key, self._skipped = learned(text or ""), key, 0
        return found, list(self._learned)
