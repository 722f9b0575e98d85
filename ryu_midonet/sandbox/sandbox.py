"""The sandbox as a whole: build it from a description, reach its parts, take it down.

    with Sandbox.from_yaml("etc/sandbox/two-hosts.yaml", run_dir) as sb:
        sb.vm("vm1").ping(sb.vm("vm2").ip)

Run directory layout: ``sandbox.json`` (state), ``redis.sock``, ``redis/`` (config, append-only
file, log, pid; in sentinel mode also ``redis-2/`` and ``sentinel-1/`` .. ``sentinel-3/``),
``api/`` (log, pid, the admin password and a midonetrc, see :mod:`.login`), ``hosts/<host>/``
(OVS database, sockets, pid files and logs, ``host_id``, agent log).

One part can be stopped, killed and started again (:meth:`Sandbox.stop_part`,
:meth:`Sandbox.start_part`, :meth:`Sandbox.restart_part`; the parts are listed in
:mod:`.parts`), also on a sandbox another process brought up (:meth:`Sandbox.attach`).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from ryu_midonet.sandbox import agent, login, netns, parts, services, store, teardown, underlay
from ryu_midonet.sandbox.capture import Capture
from ryu_midonet.sandbox.config import SandboxSpec, load
from ryu_midonet.sandbox.host import Host
from ryu_midonet.sandbox.procs import ProcessRecord
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
        self._state: State | None = None  # while up() builds

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
        """The unix socket of the server named ``redis`` (in sentinel mode it is the master
        only until a failover: use :attr:`redis_url` there)."""
        return self.run_dir / "redis.sock"

    @property
    def sentinel(self) -> bool:
        """True when the store is a master, a replica and sentinels."""
        return self.spec.redis_sentinel

    @property
    def redis_servers(self) -> dict[str, store.Server]:
        """The redis-servers by name: ``redis`` (and ``redis-2``, the replica at ``up``)."""
        return {name: store.Server(name, self.run_dir / name, int(port))
                for name, port in self.facts.get("redis_ports", {}).items()}

    @property
    def sentinels(self) -> dict[str, store.Server]:
        """The sentinels by name (``sentinel-1`` ...), in sentinel mode."""
        return {name: store.Server(name, self.run_dir / name, int(port))
                for name, port in self.facts.get("sentinel_ports", {}).items()}

    @property
    def store_address(self) -> str:
        """Where the store's servers listen: the root namespace's underlay address in
        sentinel mode, else 127.0.0.1."""
        addr = self.spec.store_address
        return str(addr.ip) if addr is not None else store.LOCALHOST

    @property
    def redis_url(self) -> str:
        """``redis://127.0.0.1:PORT/0``, for the root namespace; in sentinel mode
        ``redis+sentinel://ADDR:P1,ADDR:P2,ADDR:P3/SERVICE/0``, for every namespace."""
        if self.sentinel:
            addrs = ",".join(f"{self.store_address}:{s.port}" for s in self.sentinels.values())
            return f"redis+sentinel://{addrs}/{self.spec.redis_service}/0"
        return f"redis://127.0.0.1:{self.facts.get('redis_port')}/0"

    def redis_master(self) -> str:
        """The name of the server that is the master now (``redis`` or ``redis-2``), as the
        sentinels say; always ``redis`` without sentinels."""
        if not self.sentinel:
            return "redis"
        found = store.master_address(list(self.sentinels.values()), self.spec.redis_service)
        if found is None:
            raise RuntimeError("no sentinel answers: the current master is unknown")
        for name, server in self.redis_servers.items():
            if found == (self.store_address, server.port):
                return name
        raise RuntimeError(f"the sentinels name {found[0]}:{found[1]} as master, which is "
                           "not a server of this sandbox")

    @property
    def redis_unix_url(self) -> str:
        """``unix://<run_dir>/redis.sock?db=0``, reachable from every namespace."""
        return f"unix://{self.redis_sock}?db=0"

    @property
    def api_url(self) -> str | None:
        port = self.facts.get("api_port")
        return f"http://127.0.0.1:{port}/midonet-api" if port else None

    def credentials(self) -> login.Credentials | None:
        """The admin user of the REST API (``None`` without an API): ``.user``, ``.password``,
        ``.midonetrc``, and ``.token(sb.api_url)`` for a fresh token."""
        return login.read(self.run_dir) if self.api_url else None

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
        if taken and teardown.clear_orphans(taken):
            taken = set(wanted) & set(netns.list_netns(self.spec.prefix))
        if taken:
            raise RuntimeError(f"namespaces already exist: {', '.join(sorted(taken))} "
                               "(another sandbox is up; 'down' or 'clean' it first)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("hosts", "redis", "redis-2", "api",
                    *(f"sentinel-{i}" for i in range(1, store.SENTINELS + 1))):
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
        finally:
            self._state = None
        return self

    def _build(self, st: State) -> None:
        spec = self.spec
        st.add_namespace(self.underlay_netns)
        underlay.create(self.underlay_netns, spec.underlay_mtu)
        if spec.store_address is not None:
            underlay.add_store_link(self.underlay_netns, spec.store_link, spec.store_address,
                                    spec.underlay_mtu)
            self.facts["store_link"] = spec.store_link
            st.save()
        self._start_store(st)
        api_proc = None
        if spec.api:
            self.facts["api_port"] = spec.api_port or services.free_port()
            login.create(self.run_dir, self.redis_url, self.api_url)
            api_proc, rec = services.start_api(self.run_dir, self.redis_url,
                                               self.facts["api_port"])
            self._track(st, api_proc, rec)
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
                proc, rec = agent.start(spec.agent, host, self.redis_sock, self.agent_redis_url)
                self._track(st, proc, rec)
                started.append((host, proc))
            for host, proc in started:
                agent.wait_connected(spec.agent, host, proc)
        if api_proc is not None and self.api_url:
            services.wait_api(api_proc, self.api_url, self.run_dir / "api" / "api.log")
        st.save()

    @property
    def agent_redis_url(self) -> str | None:
        """The URL agents get in sentinel mode (else they use the unix socket)."""
        return self.redis_url if self.sentinel else None

    def _start_store(self, st: State) -> None:
        """The redis-server; in sentinel mode a master, its replica and the sentinels."""
        spec, addr = self.spec, self.store_address
        ports: list[int] = [spec.redis_port] if spec.redis_port else []
        wanted = 2 + store.SENTINELS if self.sentinel else 1
        while len(ports) < wanted:
            port = services.free_port()
            if port not in ports:
                ports.append(port)
        self.facts["redis_port"] = ports[0]
        self.facts["redis_ports"] = {"redis": ports[0]}
        if not self.sentinel:
            server = self.redis_servers["redis"]
            store.write(server, store.server_conf(server, [store.LOCALHOST], self.redis_sock))
            self._track(st, *store.start(server))
            return
        self.facts["redis_ports"]["redis-2"] = ports[1]
        self.facts["sentinel_ports"] = {f"sentinel-{i}": port
                                        for i, port in enumerate(ports[2:], start=1)}
        st.save()
        master, replica = self.redis_servers.values()
        bind = [store.LOCALHOST, addr]
        store.write(master, store.server_conf(master, bind, self.redis_sock, announce_ip=addr))
        store.write(replica, store.server_conf(replica, bind, replica_of=(addr, master.port),
                                               announce_ip=addr))
        for server in (master, replica):
            self._track(st, *store.start(server))
        sentinels = list(self.sentinels.values())
        for sentinel in sentinels:
            store.write(sentinel, store.sentinel_conf(sentinel, addr, spec.redis_service,
                                                      master.port))
            self._track(st, *store.start(sentinel))
        store.wait_sentinels(sentinels, spec.redis_service, replicas=1)

    def _track(self, st: State | None, proc: subprocess.Popen[bytes] | None,
               rec: ProcessRecord) -> None:
        """Record a process the sandbox started (in place of an earlier one of that name)."""
        if proc is not None:
            self._children[proc.pid] = proc
        st = st or State.load(self.run_dir)
        if st is None:
            raise RuntimeError(f"no sandbox is up in {self.run_dir}")
        st.put_process(rec)

    # -- failure testing: one part at a time ---------------------------------------------

    def stop_part(self, part: str, host: str | None = None, *, kill: bool = False) -> None:
        """Stop one part (see :mod:`.parts`): SIGTERM, or SIGKILL at once with ``kill`` (a
        crash). Nothing happens when it does not run."""
        parts.stop(self, parts.resolve(self, part, host), kill, self._children)

    def start_part(self, part: str, host: str | None = None, *, empty: bool = False) -> None:
        """Start a stopped part with the arguments it had at ``up``, and wait until it works
        (an agent: connected to its switch; redis: answering, with its data unless
        ``empty``)."""
        parts.start(self, parts.resolve(self, part, host), empty, self._track)

    def restart_part(self, part: str, host: str | None = None, *, kill: bool = False,
                     empty: bool = False) -> None:
        """:meth:`stop_part` then :meth:`start_part` (a role such as ``redis-master`` is
        resolved once, before the stop)."""
        resolved = parts.resolve(self, part, host)
        parts.stop(self, resolved, kill, self._children)
        parts.start(self, resolved, empty, self._track)

    def stop_agent(self, host_name: str, kill: bool = False) -> None:
        """Stop a host's agent (``kill``: SIGKILL at once, as a crash would)."""
        self.stop_part("agent", host_name, kill=kill)

    def start_agent(self, host_name: str) -> None:
        """Start a host's agent again and wait until its switch is connected."""
        self.start_part("agent", host_name)

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

        def servers(group: dict[str, store.Server]) -> dict[str, dict[str, Any]]:
            return {n: {"address": f"{self.store_address}:{s.port}", "alive": alive(s.process)}
                    for n, s in group.items()}

        master: str | None = "redis"
        if self.sentinel:
            try:
                master = self.redis_master()
            except RuntimeError:
                master = None
        server = self.redis_servers.get(master) if master else None
        master_proc = server.process if server else None
        return {
            "run_dir": str(self.run_dir), "up": st is not None,
            "redis": {"url": self.redis_url, "unix_url": self.redis_unix_url,
                      "alive": alive(master_proc) if master_proc else False,
                      "sentinel": self.sentinel, "master": master,
                      "servers": servers(self.redis_servers),
                      "sentinels": servers(self.sentinels)},
            "api": {"url": self.api_url, "alive": alive("rest-api"), **self._login_facts()},
            "underlay": {"netns": self.underlay_netns, "bridge": underlay.UNDERLAY_BRIDGE},
            "hosts": {n: {**h.facts(), "ovsdb_server": alive("ovsdb-server", h.netns),
                          "ovs_vswitchd": alive("ovs-vswitchd", h.netns),
                          "agent": alive(f"agent-{n}", h.netns)}
                      for n, h in self.hosts.items()},
            "vms": {n: {"host": v.host.name, "netns": v.netns, "interface": v.interface,
                        "ip": str(v.address), "mac": v.mac} for n, v in self.vms.items()},
        }

    def _login_facts(self) -> dict[str, Any]:
        creds = self.credentials()
        if creds is None:
            return {}
        return {"user": creds.user, "password_file": str(creds.password_file),
                "midonetrc": str(creds.midonetrc)}

    def __enter__(self) -> Sandbox:
        """Up for the life of this process: if it dies without taking the sandbox down, the
        next sandbox wanting the same namespaces removes it."""
        self.facts[teardown.OWNER] = teardown.owner_fact()
        return self.up()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.down()
