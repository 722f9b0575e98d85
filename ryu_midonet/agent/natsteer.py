"""The steering flows of source NAT in the datapath, from the return paths every host shares.

For each :class:`~ryu_midonet.sim.state.natranges.ReturnPath` (a host's NAT port block, the
exterior port its translated packets leave by), this host needs:

- its own block, exit port here: replies entering there go through the tracker
  (:func:`~ryu_midonet.datapath.translator.nat_steering`);
- its own block, exit port elsewhere: replies that host tunnels here go through the tracker
  (:func:`~ryu_midonet.datapath.translator.nat_tunnel_in`);
- another host's block, exit port here: replies entering there are tunnelled to that host
  (:func:`~ryu_midonet.datapath.translator.nat_steering_to`);
- nothing otherwise.

:class:`NatSteering` keeps what it installed and answers a change of the paths or of the
ports' locations with the flows to remove (by the path's cookie) and to add.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable

from ryu_midonet.agent.locator import Locator
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, Message
from ryu_midonet.sim.state.natranges import ReturnPath


def path_cookie(path: ReturnPath) -> int:
    """The cookie of a return path's flows (the same on every host and every run)."""
    digest = hashlib.blake2b("|".join(map(str, path)).encode(), digest_size=7).digest()
    return p.cookie(p.COOKIE_NAT_STEER, int.from_bytes(digest, "big"))


def path_flows(path: ReturnPath, host_id: str, locate: Locator) -> tuple[FlowSpec, ...]:
    """The flows ``path`` needs on host ``host_id`` (none: it needs none here, or its port
    or owner cannot be reached now)."""
    port = locate.view.get("port", path.port_id)
    where = locate(path.port_id)
    if port is None or where is None:
        return ()
    cookie = path_cookie(path)
    key = int(port.get("tunnelKey") or 0)
    if path.host == host_id:
        if isinstance(where, tr.Local):
            return tuple(tr.nat_steering(where.ofport, path.scope, path.ip, path.first,
                                         path.last, cookie))
        if 0 < key < p.NAT_TUNNEL_FLAG:
            return tuple(tr.nat_tunnel_in(key, path.scope, path.ip, path.first, path.last,
                                          cookie))
        return ()
    if not isinstance(where, tr.Local) or not 0 < key < p.NAT_TUNNEL_FLAG:
        return ()
    owner = locate.host(path.host, key)
    if owner is None:
        return ()
    return tuple(tr.nat_steering_to(where.ofport, key, path.ip, path.first, path.last, owner,
                                    cookie))


class NatSteering:
    """The steering flows this host has installed, kept equal to what the paths need."""

    def __init__(self, host_id: str) -> None:
        self.host_id = host_id
        self.installed: dict[ReturnPath, tuple[FlowSpec, ...]] = {}
        self._lock = threading.Lock()

    def sync(self, paths: Iterable[ReturnPath], locate: Locator) -> list[Message]:
        """The messages that take the switch from what was installed to what ``paths`` need
        (removals first)."""
        with self._lock:
            wanted: dict[ReturnPath, tuple[FlowSpec, ...]] = {}
            for path in paths:
                flows = path_flows(path, self.host_id, locate)
                if flows:
                    wanted[path] = flows
            messages: list[Message] = [FlowDelete(path_cookie(path))
                                       for path, flows in self.installed.items()
                                       if wanted.get(path) != flows]
            for path, flows in wanted.items():
                if self.installed.get(path) != flows:
                    messages += flows
            self.installed = wanted
            return messages

    def reset(self) -> None:
        """The switch lost every flow: the next :meth:`sync` installs them all again."""
        with self._lock:
            self.installed = {}
