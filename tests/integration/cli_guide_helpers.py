"""Helpers for ``test_cli_guide.py``: run the installed ``midonet-cli`` and seed the topology.

:class:`Cli` runs the console script as a subprocess, in one-shot (``-e``) or interactive mode
(commands piped to the ``midonet> `` prompt). :class:`Seed` builds the objects a guide example
assumes through the REST API, and registers hosts the way agents do. :data:`SNAT_LAB` and
:data:`SNAT_CHAIN` are the shell lines of the guide's SNAT lab (also run with real traffic by
``test_chains_dataplane.py``).
It is not a test module (no ``test_`` prefix), so pytest does not collect it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from tests.support import credentials
from tests.support.topology import RestTopology

PROMPT = "midonet> "
TIMEOUT = 60.0

# The SNAT lab's midonet-cli lines, as printed in the guide, except where marked "adapted".
SNAT_LAB = r"""
midonet-cli -e 'bridge list name snat-example-bridge' || midonet-cli -e 'bridge create name snat-example-bridge'
export BRIDGE="$(midonet-cli -e 'bridge list name snat-example-bridge' | awk '{print $2;}')"

midonet-cli -e "bridge $BRIDGE port list" | wc -l | grep '2' || midonet-cli -e "bridge $BRIDGE port create"
midonet-cli -e "bridge $BRIDGE port list" | wc -l | grep '2' || midonet-cli -e "bridge $BRIDGE port create"

# adapted: $2 of a nested listing is the port's alias in its bridge; prefix the bridge
export VETH_PORT="$BRIDGE:$(midonet-cli -e "bridge $BRIDGE port list" | head -n1 | awk '{print $2;}')"
export ROUTER_PORT="$BRIDGE:$(midonet-cli -e "bridge $BRIDGE port list" | tail -n1 | awk '{print $2;}')"

export HOST="$(midonet-cli -e "host list name os004" | awk '{print $2;}')"
midonet-cli -e "host $HOST add binding port $VETH_PORT interface veth0-snat"

export ROUTER="$(midonet-cli -e "router list name edge" | awk '{print $2;}')"
# adapted: router ports print "addresses 192.168.11.1/24", not "address ... net ..."
midonet-cli -e "router $ROUTER port list" | grep 'addresses 192.168.11.1/24' || \
midonet-cli -e "router $ROUTER port create address 192.168.11.1 net 192.168.11.0/24"

export RPORT="$ROUTER:$(midonet-cli -e "router $ROUTER port list" | grep 'addresses 192.168.11.1/24' | awk '{print $2;}')"
midonet-cli -e "router $ROUTER route list" | grep 'dst 192.168.11.0/24' || \
midonet-cli -e "router $ROUTER route add type normal src 0.0.0.0/0 dst 192.168.11.0/24 port $RPORT"

midonet-cli -e "port $RPORT set peer $ROUTER_PORT"
"""  # noqa: E501 - the guide's lines, unwrapped

SNAT_CHAIN = r"""
export ROUTER="$(midonet-cli -e "router list name edge" | awk '{print $2;}')"
export RPORT="$ROUTER:$(midonet-cli -e "router $ROUTER port list" | grep 'addresses 192.168.11.1/24' | awk '{print $2;}')"
export IPORT="$RPORT" XPORT="$ROUTER:port0"
export CHAIN="$(midonet-cli -e "chain create name snat-example")"
midonet-cli -e "chain $CHAIN add rule src 192.168.11.11/32 in-ports $IPORT fragment-policy unfragmented no-vlan false pos 1 type snat action accept target 200.200.200.11:10000-60000"
midonet-cli -e "chain $CHAIN add rule dst 200.200.200.11 in-ports $XPORT fragment-policy any no-vlan false pos 1 type rev_snat action accept"
midonet-cli -e "router $ROUTER set infilter $CHAIN"
"""  # noqa: E501 - the guide's lines, unwrapped


def cli_command() -> str:
    """The installed console script, next to the interpreter running the tests."""
    candidate = Path(sys.executable).with_name("midonet-cli")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("midonet-cli")
    if not found:
        raise RuntimeError("midonet-cli is not installed (pip install -e .)")
    return found


@dataclass
class Result:
    out: list[str]
    err: str
    rc: int


class Cli:
    """``midonet-cli --midonet-url URL`` with a clean HOME and environment; it logs in with
    the credentials the tests remember for ``url`` (in ``HOME/.midonetrc``), or runs with
    ``-A`` for an API they know none of."""

    def __init__(self, url: str, home: Path) -> None:
        self.url = url
        self.home = home
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("MIDO_", "MIDONET_"))}
        self.env["HOME"] = str(home)
        self.auth = credentials.login_of(url) is not None
        if self.auth:
            credentials.write_midonetrc(home, url)

    def no_auth(self, login: bool = False) -> list[str]:
        return [] if login or self.auth else ["-A"]

    def base(self, *flags: str, login: bool = False) -> list[str]:
        return [cli_command(), *self.no_auth(login), "--midonet-url", self.url, *flags]

    def run(self, command: str, *flags: str, login: bool = False) -> Result:
        """``-e COMMAND`` (one argument, as a shell script passes it); ``login``: without -A."""
        proc = subprocess.run([*self.base(*flags, login=login), "-e", command], env=self.env,
                              capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)
        return Result(proc.stdout.splitlines(), proc.stderr, proc.returncode)

    def ok(self, command: str, *flags: str) -> list[str]:
        """The output lines of a command that must succeed quietly on stderr."""
        res = self.run(command, *flags)
        assert res.rc == 0 and res.err == "", (command, res)
        return res.out

    def fails(self, command: str, *flags: str) -> str:
        """The one stderr line of a command that must fail."""
        res = self.run(command, *flags)
        assert res.rc != 0, (command, res)
        assert res.out == [], (command, res)
        lines = res.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("midonet-cli: error: "), (command, res)
        assert "Traceback" not in res.err
        return lines[0]

    def session(self, commands: list[str], *flags: str) -> tuple[list[list[str]], str, int]:
        """Pipe ``commands`` to the prompt; the output lines of each command, stderr, rc."""
        proc = subprocess.run(self.base(*flags), input="".join(c + "\n" for c in commands),
                              env=self.env, capture_output=True, text=True, timeout=TIMEOUT)
        parts = proc.stdout.split(PROMPT)
        assert parts[0] == "" and parts[-1] == "\n", proc.stdout
        outputs = [p.splitlines() for p in parts[1:-1]]
        assert len(outputs) == len(commands), proc.stdout
        return outputs, proc.stderr, proc.returncode

    def script(self, text: str, strict: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a bash script in which ``midonet-cli`` talks to this API
        (``strict``: stop at the first failing command, ``set -e``)."""
        prologue = (f'midonet-cli() {{ "{cli_command()}" {" ".join(self.no_auth())} '
                    f'--midonet-url "{self.url}" "$@"; }}\n'
                    "export -f midonet-cli\n" + ("set -e\n" if strict else ""))
        return subprocess.run(["bash", "-c", prologue + text], env=self.env,
                              capture_output=True, text=True, timeout=TIMEOUT * 4)


class Seed:
    """Builds preconditions through the REST API (and registers hosts directly)."""

    def __init__(self, url: str, redis_url: str) -> None:
        self.url = url
        self.topo = Topology(Store.from_url(redis_url))
        self.build = RestTopology(url)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.build.call(method, path, body)

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.build.post(path, body)

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.call("PUT", path, body))

    # -- objects ---------------------------------------------------------------------------
    def router(self, name: str, tenant: str | None = None, **kw: Any) -> dict[str, Any]:
        return self.build.router(name, tenantId=tenant, **kw)

    def bridge(self, name: str, tenant: str | None = None) -> dict[str, Any]:
        return self.build.bridge(name, tenantId=tenant)

    def chain(self, name: str, tenant: str | None = None) -> dict[str, Any]:
        return self.build.chain(name, tenantId=tenant)

    def chains(self, count: int, tenant: str | None = None) -> list[dict[str, Any]]:
        return [self.chain(f"pre-existing-{i}", tenant) for i in range(count)]

    def router_port(self, router: dict[str, Any], cidr: str, mac: str | None = None,
                    ) -> dict[str, Any]:
        return self.build.port(router, cidr, mac)

    def bridge_port(self, bridge: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.build.port(bridge, **kw)

    def link(self, port: dict[str, Any], peer: dict[str, Any]) -> None:
        self.build.link(port, peer)

    def rule(self, chain: dict[str, Any], position: int, type: str, **kw: Any
             ) -> dict[str, Any]:
        return self.build.rule(chain, type, position, **kw)

    def tunnel_zone(self, name: str, kind: str = "gre") -> dict[str, Any]:
        return self.post("tunnel_zones", {"name": name, "type": kind})

    def member(self, zone: dict[str, Any], host_id: str, address: str) -> None:
        self.post(f"tunnel_zones/{zone['id']}/hosts", {"hostId": host_id, "ipAddress": address})

    def host(self, host_id: str, name: str, alive: bool = True,
             interfaces: list[dict[str, Any]] | None = None) -> str:
        """Register a host as its agent would, alive for ten minutes or down."""
        self.topo.register_host(host_id, name, addresses=[], interfaces=interfaces or [])
        if alive:
            self.topo.heartbeat(host_id, ttl_ms=600_000)
        else:
            self.topo.host_down(host_id)
        return host_id


def host_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def iface(name: str, mac: str, mtu: int, kind: str, endpoint: str, status: int,
          addresses: list[str]) -> dict[str, Any]:
    return {"name": name, "mac": mac, "mtu": mtu, "type": kind, "endpoint": endpoint,
            "status": status, "addresses": addresses}
