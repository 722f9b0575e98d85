"""One part of a running sandbox, stopped and started again by PID, with the arguments it had
at ``up``.

Parts, as the command line names them:

- ``agent HOST``: the host's agent. Starting it waits until it is its switch's controller.
- ``ovs HOST``: the host's ovsdb-server and ovs-vswitchd, started again on the same database
  (the switch's configuration survives; ``br-phy`` gets its address, routes and neighbours
  back). A running agent reconnects by itself.
- ``redis``: the redis-server (the first one in sentinel mode). Starting it waits until it
  answers, with the data of its append-only file, or empty when asked.
- sentinel mode: ``redis-2`` (the replica at ``up``), ``sentinel-1`` .. ``sentinel-3``, and
  the roles ``redis-master`` and ``redis-replica``: the server the sentinels name as master
  now, and the other one.
- ``api``: the REST API.

Starting a part that runs is an error; stopping one that does not run does nothing. A started
part's processes replace the old ones in the state file, so ``status`` tells the truth.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ryu_midonet.sandbox import agent, login, procs, services, store
from ryu_midonet.sandbox.procs import ProcessRecord
from ryu_midonet.sandbox.state import State

if TYPE_CHECKING:
    from ryu_midonet.sandbox.sandbox import Sandbox

HOST_PARTS = ("agent", "ovs")
ROLES = ("redis-master", "redis-replica")
Track = Callable[[State | None, "subprocess.Popen[bytes] | None", ProcessRecord], None]


@dataclass(frozen=True)
class Part:
    """A part: ``kind`` is agent, ovs, redis (any redis-server or sentinel) or api; ``name``
    the host (agent, ovs) or the server's name (redis)."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}" if self.kind in HOST_PARTS else self.name


def names(sb: Sandbox) -> list[str]:
    """Every part name the sandbox knows (host parts without their host)."""
    found = ["agent", "ovs", *sb.redis_servers, *sb.sentinels, "api"]
    return found + list(ROLES) if sb.sentinel else found


def resolve(sb: Sandbox, part: str, host: str | None = None) -> Part:
    """The part named ``part`` (and ``host``, for agent and ovs); roles are looked up now."""
    if part in HOST_PARTS:
        if host is None:
            raise RuntimeError(f"'{part}' needs a host: one of {', '.join(sb.hosts)}")
        if host not in sb.hosts:
            raise RuntimeError(f"no host named {host!r} (hosts: {', '.join(sb.hosts)})")
        return Part(part, host)
    if host is not None:
        raise RuntimeError(f"'{part}' takes no host")
    if part in ROLES and sb.sentinel:
        master = sb.redis_master()
        if part == "redis-master":
            return Part("redis", master)
        return Part("redis", next(n for n in sb.redis_servers if n != master))
    if part in sb.redis_servers or part in sb.sentinels:
        return Part("redis", part)
    if part == "api":
        return Part("api", "api")
    raise RuntimeError(f"no part named {part!r} (parts: {', '.join(names(sb))})")


def _keys(sb: Sandbox, part: Part) -> set[tuple[str, str | None]]:
    """``(process name, namespace)`` of the processes of a part."""
    if part.kind == "agent":
        return {(f"agent-{part.name}", sb.hosts[part.name].netns)}
    if part.kind == "ovs":
        netns = sb.hosts[part.name].netns
        return {("ovsdb-server", netns), ("ovs-vswitchd", netns)}
    if part.kind == "api":
        return {("rest-api", None)}
    return {(_server(sb, part).process, None)}


def _server(sb: Sandbox, part: Part) -> store.Server:
    return {**sb.redis_servers, **sb.sentinels}[part.name]


def _records(sb: Sandbox, part: Part) -> list[ProcessRecord]:
    st = State.load(sb.run_dir)
    if st is None:
        raise RuntimeError(f"no sandbox is up in {sb.run_dir}")
    keys = _keys(sb, part)
    return [rec for rec in st.processes if (rec.name, rec.netns) in keys]


def running(sb: Sandbox, part: Part) -> list[ProcessRecord]:
    """The live processes of a part."""
    return [rec for rec in _records(sb, part) if rec.alive()]


def stop(sb: Sandbox, part: Part, kill: bool,
         children: dict[int, subprocess.Popen[bytes]]) -> None:
    """SIGTERM (or SIGKILL) the part's processes and wait until they are gone."""
    live = running(sb, part)
    if kill:
        procs.kill_all(live, children=children)
    else:
        procs.stop_all(live, children=children)
    for rec in live:
        child = children.pop(rec.pid, None)
        if child is not None:
            child.wait()


def start(sb: Sandbox, part: Part, empty: bool, track: Track) -> None:
    """Start a stopped part and wait until it works."""
    if empty and (part.kind != "redis" or part.name.startswith("sentinel-")):
        raise RuntimeError("only a redis-server can be started empty")
    live = running(sb, part)
    if live:
        raise RuntimeError(f"{part} is already running (pid {live[0].pid})")
    if part.kind == "agent":
        _start_agent(sb, part.name, track)
    elif part.kind == "ovs":
        host = sb.hosts[part.name]
        peers = [h.underlay for h in sb.hosts.values() if h is not host]
        for rec in host.restart_switch(peers):
            track(None, None, rec)
    elif part.kind == "api":
        port = sb.facts.get("api_port")
        if not port or sb.api_url is None:
            raise RuntimeError("this sandbox runs no REST API")
        proc, rec = services.start_api(sb.run_dir, sb.redis_url, int(port))
        track(None, proc, rec)
        services.wait_api(proc, sb.api_url, sb.run_dir / "api" / "api.log")
    else:
        server = _server(sb, part)
        if empty:
            store.wipe(server)
        proc, rec = store.start(server)
        track(None, proc, rec)
        if empty and sb.api_url:
            login.restore(sb.run_dir, sb.redis_url)


def _start_agent(sb: Sandbox, host_name: str, track: Track) -> None:
    spec = sb.spec.agent
    if spec is None:
        raise RuntimeError("this sandbox runs no agents")
    host = sb.hosts[host_name]
    proc, rec = agent.start(spec, host, sb.redis_sock, sb.agent_redis_url)
    track(None, proc, rec)
    agent.wait_connected(spec, host, proc)
