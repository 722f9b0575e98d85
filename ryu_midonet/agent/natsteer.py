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

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Iterable

from ryu_midonet.agent.locator import Locator
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.flows import Action, Ct, FlowDelete, FlowSpec, Message
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


Current = Callable[[str, int], tuple[int, int] | None]  # (NAT address, first port) -> ports


def retarget(flow: FlowSpec, current: Current) -> FlowSpec | None:
    """``flow`` with each source NAT of the tracker giving new connections the ports
    ``current`` says its block's address has now; None when that changes nothing."""
    actions: list[Action] = []
    for action in flow.actions:
        ct = action.args[0] if action.kind == "ct" and action.args else None
        nat = ct.nat if isinstance(ct, Ct) else None
        if (isinstance(ct, Ct) and nat is not None and nat.kind == "src"
                and nat.addresses is not None and nat.ports is not None):
            now = current(nat.addresses[0], nat.ports[0])
            if now is not None and now != nat.ports:
                action = Action("ct", (dataclasses.replace(
                    ct, nat=dataclasses.replace(nat, ports=now)),))
        actions.append(action)
    changed = tuple(actions)
    return None if changed == flow.actions else dataclasses.replace(flow, actions=changed)


class SnatFlows:
    """The flows this host installed that translate sources in the tracker, each with the
    (exterior port, flow-state scope, NAT address) of its translated packets' exits."""

    def __init__(self) -> None:
        self._flows: dict[int, tuple[FlowSpec, tuple[tuple[str, str, str], ...]]] = {}
        self._lock = threading.Lock()

    def add(self, flow: FlowSpec, exits: Iterable[tuple[str, str, str]]) -> None:
        with self._lock:
            self._flows[flow.cookie] = (flow, tuple(exits))

    def __len__(self) -> int:
        return len(self._flows)

    def retarget(self, current: Current, installed: Callable[[int], bool],
                 host_id: str) -> tuple[list[FlowSpec], list[ReturnPath]]:
        """The flows (still ``installed``) whose ports :func:`retarget` changes, changed,
        and the return paths of their new ports (to record before the flows go out).
        Flows no longer installed are forgotten."""
        flows: list[FlowSpec] = []
        paths: list[ReturnPath] = []
        with self._lock:
            for cookie, (flow, exits) in list(self._flows.items()):
                if not installed(cookie):
                    del self._flows[cookie]
                    continue
                moved = retarget(flow, current)
                if moved is None:
                    continue
                self._flows[cookie] = (moved, exits)
                flows.append(moved)
                for action in moved.actions:
                    ct = action.args[0] if action.kind == "ct" and action.args else None
                    nat = ct.nat if isinstance(ct, Ct) else None
                    if nat is None or nat.addresses is None or nat.ports is None:
                        continue
                    paths += [ReturnPath(port_id, scope, ip, nat.ports[0], nat.ports[1],
                                         host_id)
                              for port_id, scope, ip in exits if ip == nat.addresses[0]]
        return flows, paths
