"""FRR bgpd configuration from the topology, as pure functions.

One :class:`Speaker` per router port: the router's AS, the port's address as router id, the
router's peers whose address the port's subnet holds, and every BGP network of the router.
A router without an AS number (0) or a port without an address has no speaker.

:func:`render` gives the file bgpd starts with; :func:`changes` gives the ``vtysh`` commands
that turn a running bgpd's configuration into another one, touching only the peers and
networks that differ, so unaffected sessions stay up. A change of AS or router id has no
incremental form: :func:`changes` returns ``None`` and bgpd is restarted.

Only values that cannot break the configuration's syntax are written: a password with
whitespace or characters outside printable ASCII leaves its peer out (a session would fail
without it anyway) instead of being written into the file.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KEEPALIVE_DEFAULT = 60  # FRR's defaults, used when only one of the two timers is set
HOLD_DEFAULT = 180
_PASSWORD = re.compile(r"^[!-~]{1,80}$")

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Peer:
    """One BGP neighbour of a speaker."""

    address: str
    as_number: int
    keepalive: int | None = None
    hold: int | None = None
    connect_retry: int | None = None
    password: str | None = None

    def lines(self) -> list[str]:
        """The ``router bgp`` lines that configure this peer."""
        out = [f"neighbor {self.address} remote-as {self.as_number}"]
        timers = _timers(self.keepalive, self.hold)
        if timers is not None:
            out.append(f"neighbor {self.address} timers {timers[0]} {timers[1]}")
        if self.connect_retry is not None:
            out.append(f"neighbor {self.address} timers connect {self.connect_retry}")
        if self.password is not None:
            out.append(f"neighbor {self.address} password {self.password}")
        return out


@dataclass(frozen=True)
class Speaker:
    """What one bgpd says: its AS and router id, its peers and the networks it announces."""

    port_id: str
    as_number: int
    router_id: str
    peers: tuple[Peer, ...] = ()
    networks: tuple[str, ...] = ()


def _timers(keepalive: int | None, hold: int | None) -> tuple[int, int] | None:
    if keepalive is None and hold is None:
        return None
    if hold is None:
        return keepalive or KEEPALIVE_DEFAULT, max(HOLD_DEFAULT, 3 * (keepalive or 1))
    if keepalive is None:
        return (0 if hold == 0 else max(1, hold // 3)), hold
    return (0 if hold == 0 else keepalive), hold


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def peer_of(obj: Obj) -> Peer | None:
    """A stored bgpPeer as a :class:`Peer`; ``None`` when it cannot be written safely."""
    try:
        address = str(ipaddress.IPv4Address(obj.get("address")))
    except (ValueError, TypeError):
        return None
    as_number = _int(obj.get("asNumber"))
    password = obj.get("password")
    if as_number is None or as_number <= 0:
        return None
    if password is not None and (not isinstance(password, str)
                                 or not _PASSWORD.match(password)):
        return None
    return Peer(address, as_number, _int(obj.get("keepAlive")), _int(obj.get("holdTime")),
                _int(obj.get("connectRetry")), password or None)


def port_network(port: Obj) -> ipaddress.IPv4Interface | None:
    """A router port's address with its subnet, ``None`` when it has none."""
    try:
        return ipaddress.IPv4Interface(f"{port['portAddress']}/{port['networkLength']}")
    except (KeyError, ValueError, TypeError):
        return None


def speaker(router: Obj, port: Obj, peers: Iterable[Obj], networks: Iterable[Obj]
            ) -> Speaker | None:
    """The speaker of router port ``port``, ``None`` when the port has no BGP to speak:
    no AS number on the router, no address on the port, or no peer in its subnet."""
    as_number = _int(router.get("asNumber"))
    iface = port_network(port)
    if not as_number or iface is None:
        return None
    mine = []
    for obj in peers:
        peer = peer_of(obj)
        if peer is not None and ipaddress.IPv4Address(peer.address) in iface.network:
            mine.append(peer)
    if not mine:
        return None
    nets = set()
    for obj in networks:
        try:
            nets.add(ipaddress.IPv4Network(f"{obj['subnetAddress']}/{obj['subnetLength']}"))
        except (KeyError, ValueError, TypeError):
            continue
    return Speaker(str(port["id"]), as_number, str(iface.ip),
                   tuple(sorted(mine, key=lambda p: ipaddress.IPv4Address(p.address))),
                   tuple(str(n) for n in sorted(nets)))


def render(spk: Speaker, hostname: str = "ryu-midonet") -> str:
    """The bgpd configuration file of a speaker."""
    lines = ["frr defaults traditional", f"hostname {hostname}", "!",
             f"router bgp {spk.as_number}", f" bgp router-id {spk.router_id}",
             " no bgp ebgp-requires-policy", " no bgp network import-check"]
    for peer in spk.peers:
        lines += [f" {line}" for line in peer.lines()]
    lines.append(" address-family ipv4 unicast")
    lines += [f"  network {net}" for net in spk.networks]
    lines += [" exit-address-family", "exit", ""]
    return "\n".join(lines)


def changes(old: Speaker, new: Speaker) -> list[str] | None:
    """The ``vtysh`` commands (from ``configure terminal`` on) moving a bgpd configured with
    ``old`` to ``new``, ``[]`` when nothing differs, ``None`` when bgpd must restart."""
    if (old.as_number, old.router_id) != (new.as_number, new.router_id):
        return None
    body: list[str] = []
    before = {p.address: p for p in old.peers}
    after = {p.address: p for p in new.peers}
    for address in sorted(set(before) - set(after)):
        body.append(f"no neighbor {address}")
    for address, peer in sorted(after.items()):
        was = before.get(address)
        if was == peer:
            continue
        if was is not None and was.as_number != peer.as_number:
            body.append(f"no neighbor {address}")
            was = None
        body += _peer_changes(was, peer)
    gone = [f"no network {n}" for n in old.networks if n not in new.networks]
    added = [f"network {n}" for n in new.networks if n not in old.networks]
    if gone or added:
        body += ["address-family ipv4 unicast", *gone, *added, "exit-address-family"]
    if not body:
        return []
    return ["configure terminal", f"router bgp {new.as_number}", *body, "end"]


def _peer_changes(was: Peer | None, peer: Peer) -> list[str]:
    if was is None:
        return peer.lines()
    out = []
    addr = peer.address
    if _timers(was.keepalive, was.hold) != _timers(peer.keepalive, peer.hold):
        timers = _timers(peer.keepalive, peer.hold)
        out.append(f"no neighbor {addr} timers" if timers is None
                   else f"neighbor {addr} timers {timers[0]} {timers[1]}")
    if was.connect_retry != peer.connect_retry:
        out.append(f"no neighbor {addr} timers connect" if peer.connect_retry is None
                   else f"neighbor {addr} timers connect {peer.connect_retry}")
    if was.password != peer.password:
        out.append(f"no neighbor {addr} password" if peer.password is None
                   else f"neighbor {addr} password {peer.password}")
    return out
