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

When the path's exit port is in another flow-state scope than the translation (a tenant
router's masquerade leaving by a provider router's uplink), the translating host's flows
take the replies through the exit scope's zone first
(:func:`~ryu_midonet.datapath.translator.nat_egress_flows`).

A path whose scope is a stateful port group is steered so at every member of the group (and
its exit port): replies may enter by any of them, and the entry port in the tunnel key is the
member they entered by. The flows follow the group's members and their bindings (the agent
syncs again after every topology change).

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
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.rules.conntrack import scope_of
from ryu_midonet.sim.state.natranges import ReturnPath


def path_cookie(path: ReturnPath) -> int:
    """The cookie of a return path's flows (the same on every host and every run)."""
    digest = hashlib.blake2b("|".join(map(str, path)).encode(), digest_size=7).digest()
    return p.cookie(p.COOKIE_NAT_STEER, int.from_bytes(digest, "big"))


def entry_ports(path: ReturnPath, view: DictView) -> list[str]:
    """The exterior ports replies of ``path`` may enter by: its exit port and, when its
    scope is a stateful port group, every member of the group (sorted)."""
    group = view.get("portGroup", path.scope)
    members = group.get("portIds") or () if group is not None and group.get("stateful") else ()
    return sorted({path.port_id, *(str(m) for m in members)})


def exit_scope(path: ReturnPath, view: DictView) -> str | None:
    """The flow-state scope of ``path``'s exit port when it is not the translation's (its
    replies are looked up in that scope's zone first: the translating host committed its
    connections there too); None otherwise."""
    port = view.get("port", path.port_id)
    where = None if port is None else scope_of(view, port)
    return None if where is None or where == path.scope else where


def path_flows(path: ReturnPath, host_id: str, locate: Locator) -> tuple[FlowSpec, ...]:
    """The flows ``path`` needs on host ``host_id``, at each port its replies may enter by
    (none: it needs none here, or its ports or owner cannot be reached now)."""
    cookie = path_cookie(path)
    flows: list[FlowSpec] = []
    for port_id in entry_ports(path, locate.view):
        flows += _entry_flows(path, port_id, host_id, locate, cookie)
    return tuple(flows)


def _entry_flows(path: ReturnPath, port_id: str, host_id: str, locate: Locator,
                 cookie: int) -> list[FlowSpec]:
    """The flows ``path`` needs on host ``host_id`` for replies entering at ``port_id``."""
    port = locate.view.get("port", port_id)
    where = locate(port_id)
    if port is None or where is None:
        return []
    key = int(port.get("tunnelKey") or 0)
    if path.host == host_id:
        egress = exit_scope(path, locate.view)
        if isinstance(where, tr.Local):
            return tr.nat_steering(where.ofport, path.scope, path.ip, path.first, path.last,
                                   cookie, egress)
        if 0 < key < p.NAT_TUNNEL_FLAG:
            return tr.nat_tunnel_in(key, path.scope, path.ip, path.first, path.last, cookie,
                                    egress)
        return []
    if not isinstance(where, tr.Local) or not 0 < key < p.NAT_TUNNEL_FLAG:
        return []
    owner = locate.host(path.host, key)
    if owner is None:
        return []
    return tr.nat_steering_to(where.ofport, key, path.ip, path.first, path.last, owner, cookie)


def _distinct(paths: Iterable[ReturnPath], view: DictView) -> list[ReturnPath]:
    """``paths`` but those steered at the same ports as another one: a block leaving by
    several members of one stateful group has a path per exit port, the flows of one do."""
    seen: set[tuple[object, ...]] = set()
    out: list[ReturnPath] = []
    for path in sorted(paths):
        same = (tuple(entry_ports(path, view)), path.scope, path.ip, path.first, path.last,
                path.host)
        if same not in seen:
            seen.add(same)
            out.append(path)
    return out


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
            for path in _distinct(paths, locate.view):
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
