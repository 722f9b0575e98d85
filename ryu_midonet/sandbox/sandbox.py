"""The sandbox as a whole: build it from a description, reach its parts, take it down.

    with Sandbox.from_yaml("etc/sandbox/two-hosts.yaml", run_dir) as sb:
        sb.vm("vm1").ping(sb.vm("vm2").ip)

Run directory layout: ``sandbox.json`` (state), ``redis.sock``, ``redis/`` (data, log, pid),
``api/`` (log, pid), ``hosts/<host>/`` (OVS database, sockets, pid files and logs, ``host_id``,
agent log).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from ryu_midonet.sandbox import agent, netns, procs, services, teardown, underlay
from ryu_midonet.sandbox.capture import Capture
from ryu_midonet.sandbox.config import SandboxSpec, load
from ryu_midonet.sandbox.host import Host
from ryu_midonet.sandbox.state import DEFAULT_RUN_DIR, State, register
from ryu_midonet.sandbox.vm import Vm

LOG = logging.getLogger(__name__)


class Sandbox:
    """Several hosts, their VMs, an underlay, a redis-server and the REST API on one machine."""

    def __init__(self, spec: SandboxSpec, run_dir: str | Path | None = None,
                 facts: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.run_dir = Path(run_dir or DEFAULT_RUN_DIR).resolve()
        self.facts: dict[str, Any] = dict(facts or {})
        ids = self.facts.setdefault("host_ids", {})
        for h in spec.hosts:
            ids.setdefault(h.name, h.host_id or str(uuid.uuid4()))
        self.underlay_netns = spec.namespace("underlay")
        self.hosts = {h.name: Host(h, spec, self.run_dir / "hosts" / h.name, ids[h.name])
                      for h in spec.hosts}
        self.vms = {v.name: Vm(v, spec, self.hosts[v.host]) for v in spec.vms}
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    @classmethod
    def from_yaml(cls, source: str | Path | dict[str, Any],
                  run_dir: str | Path | None = None) -> Sandbox:
        """A sandbox from a YAML file, YAML text or dict (not started yet)."""
        return cls(load(source), run_dir)

    @classmethod
    def attach(cls, run_dir: str | Path | None = None) -> Sandbox:
        """The sandbox running in ``run_dir``, as ``up`` described it in its state file."""
        path = Path(run_dir or DEFAULT_RUN_DIR).resolve()
        st = State.load(path)
        if st is None:
            raise RuntimeError(f"no sandbox is up in {path}")
        return cls(load(st.config), path, st.facts)

    # -- parts -------------------------------------------------------------------------

    def host(self, name: str) -> Host:
        return self.hosts[name]

    def vm(self, name: str) -> Vm:
        return self.vms[name]

    def node(self, name: str) -> Host | Vm:
        """A host or a VM by name."""
        if name in self.hosts:
            return self.hosts[name]
        if name in self.vms:
            return self.vms[name]
        raise KeyError(f"no host or VM named {name!r}")

    @property
    def redis_sock(self) -> Path:
        return self.run_dir / "redis.sock"

    @property
    def redis_url(self) -> str:
        """``redis://127.0.0.1:PORT/0``, for the root namespace."""
        return f"redis://127.0.0.1:{self.facts.get('redis_port')}/0"

    @property
    def redis_unix_url(self) -> str:
        """``unix://<run_dir>/redis.sock?db=0``, reachable from every namespace."""
        return f"unix://{self.redis_sock}?db=0"

    @property
    def api_url(self) -> str | None:
        port = self.facts.get("api_port")
        return f"http://127.0.0.1:{port}/midonet-api" if port else None

    def capture(self, expression: str = "", netns: str | None = None,
                iface: str = underlay.UNDERLAY_BRIDGE) -> Capture:
        """tcpdump on the underlay switch (or any interface of any namespace); VXLAN on the
        sandbox's UDP port is decoded."""
        decode = "vxlan" if self.spec.tunnel == "vxlan" else None
        return Capture(netns or self.underlay_netns, iface, expression, self.run_dir, decode)

    # -- lifecycle ---------------------------------------------------------------------

    def up(self) -> Sandbox:
        """Build everything; on any failure, remove what was built and re-raise."""
        if State.load(self.run_dir) is not None:
            raise RuntimeError(f"a sandbox is already up in {self.run_dir}; run 'down' first")
        wanted = [self.underlay_netns, *(h.netns for h in self.hosts.values()),
                  *(v.netns for v in self.vms.values())]
        taken = set(wanted) & set(netns.list_netns(self.spec.prefix))
        if taken:
            raise RuntimeError(f"namespaces already exist: {', '.join(sorted(taken))} "
                               "(another sandbox is up; 'down' or 'clean' it first)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("hosts", "redis", "api"):
            shutil.rmtree(self.run_dir / sub, ignore_errors=True)
        self._state = State(self.run_dir, self.spec.raw, facts=self.facts)
        self._state.save()
        register(self.run_dir)
        try:
            self._build(self._state)
        except BaseException:
            LOG.error("sandbox up failed; removing what was built")
            self.down()
            raise
        return self

    def _build(self, st: State) -> None:
        spec = self.spec
        self.facts["redis_port"] = spec.redis_port or services.free_port()
        proc, rec = services.start_redis(self.run_dir, self.facts["redis_port"])
        self._track(st, proc, rec)
        api_proc = None
        if spec.api:
            self.facts["api_port"] = spec.api_port or services.free_port()
            api_proc, rec = services.start_api(self.run_dir, self.redis_url,
                                               self.facts["api_port"])
            self._track(st, api_proc, rec)
        st.add_namespace(self.underlay_netns)
        underlay.create(self.underlay_netns, spec.underlay_mtu)
        for host in self.hosts.values():
            st.add_namespace(host.netns)
            netns.add(host.netns)
            for rec in host.build(self.underlay_netns):
                st.add_process(rec)
        for host in self.hosts.values():
            peers = [h.underlay for h in self.hosts.values() if h is not host]
            underlay.add_neighbours(host.switch, peers)
        for vm in self.vms.values():
            st.add_namespace(vm.netns)
            netns.add(vm.netns)
            vm.build()
        if spec.agent is not None:
            started = []
            for host in self.hosts.values():
                proc, rec = agent.start(spec.agent, host, self.redis_sock)
                self._track(st, proc, rec)
                started.append((host, proc))
            for host, proc in started:
                agent.wait_connected(spec.agent, host, proc)
        if api_proc is not None and self.api_url:
            services.wait_api(api_proc, self.api_url, self.run_dir / "api" / "api.log")
        st.save()

    def _track(self, st: State, proc: subprocess.Popen[bytes], rec: Any) -> None:
        self._children[proc.pid] = proc
        st.add_process(rec)

    def stop_agent(self, host_name: str, kill: bool = False) -> None:
        """Stop a host's agent (``kill``: SIGKILL at once, as a crash would)."""
        st = self._state or State.load(self.run_dir)
        if st is None:
            raise RuntimeError("the sandbox is not up")
        recs = [r for r in st.processes if r.name == f"agent-{host_name}" and r.alive()]
        if kill:
            for rec in recs:
                os.kill(rec.pid, signal.SIGKILL)
        procs.stop_all(recs, children=self._children)
        for rec in recs:
            child = self._children.pop(rec.pid, None)
            if child is not None:
                child.wait()

    def start_agent(self, host_name: str) -> None:
        """Start a host's agent again and wait until its switch is connected."""
        st = self._state or State.load(self.run_dir)
        if st is None or self.spec.agent is None:
            raise RuntimeError("the sandbox is not up, or runs no agents")
        host = self.hosts[host_name]
        # The switch shows a stopped agent's connection for a few seconds more (it refreshes
        # its status periodically): wait until it does not, or the wait below would not wait.
        deadline = time.monotonic() + self.spec.agent.connect_timeout
        while host.switch.controller_connected(host.bridge) and time.monotonic() < deadline:
            time.sleep(0.1)
        proc, rec = agent.start(self.spec.agent, host, self.redis_sock)
        self._track(st, proc, rec)
        agent.wait_connected(self.spec.agent, host, proc)

    def down(self) -> None:
        """Stop every process by PID and remove every namespace; safe to call again."""
        teardown.down(self.run_dir, self._children)
        for child in self._children.values():
            child.poll()  # reap children that had exited on their own
        self._children.clear()

    def status(self) -> dict[str, Any]:
        """What runs where, as plain data."""
        st = State.load(self.run_dir)
        records = st.processes if st else []

        def alive(name: str, ns: str | None = None) -> bool | None:
            found = [p for p in records if p.name == name and p.netns == ns]
            return all(p.alive() for p in found) if found else None

        return {
            "run_dir": str(self.run_dir), "up": st is not None,
            "redis": {"url": self.redis_url, "unix_url": self.redis_unix_url,
                      "alive": alive("redis-server")},
            "api": {"url": self.api_url, "alive": alive("rest-api")},
            "underlay": {"netns": self.underlay_netns, "bridge": underlay.UNDERLAY_BRIDGE},
            "hosts": {n: {**h.facts(), "ovsdb_server": alive("ovsdb-server", h.netns),
                          "ovs_vswitchd": alive("ovs-vswitchd", h.netns),
                          "agent": alive(f"agent-{n}", h.netns)}
                      for n, h in self.hosts.items()},
            "vms": {n: {"host": v.host.name, "netns": v.netns, "interface": v.interface,
                        "ip": str(v.address), "mac": v.mac} for n, v in self.vms.items()},
        }

    def __enter__(self) -> Sandbox:
        return self.up()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.down()
