"""ryu-midonet: an agent on every host, the virtual topology built in the store, changes
made through the REST API.

Topology: bridge ``net1`` (vm1, vm2, vm3) and bridge ``net2`` (vm4, vm5), each linked to
router ``r`` at its ``.1`` address; both hosts in one VXLAN tunnel zone. The NAT cases
(:mod:`.nat`) give router ``r`` an inbound and an outbound chain each, built in the store and
attached in one update of the router; removing them detaches and deletes both chains.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ryu_midonet.bench import layout, nat
from ryu_midonet.bench.layout import Case
from ryu_midonet.bench.scenario import Scenario, flush_datapath
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.sandbox import Sandbox

SIMULATED_FLOWS = "cookie=0x0200000000000000/0xff00000000000000"
# The miss flows (the table's, and each local port's own, metered): their packet counts are
# the packets sent to the agent.
MISS_FLOWS = "cookie=0x0400000000000000/0xff00000000000000"
_N_PACKETS = re.compile(r"\bn_packets=(\d+)")
_COOKIE = re.compile(r"\bcookie=(0x[0-9a-f]+)")
ROUTE_MEDIA = "application/vnd.org.midonet.Route-v1+json"
HTTP_TIMEOUT = 10.0


class MidonetScenario(Scenario):
    key = "ryu-midonet"
    label = "ryu-midonet"
    agent = "default"
    api = True
    cases = layout.CASES
    change_cases = (layout.ROUTED_SAME, layout.ROUTED_CROSS)
    configured_cases = nat.CASES
    clear_note = ("first packet: after deleting the agents' reactive flows on both hosts "
                  "(cookie 0x02..., with an idle timeout: installed on a miss) and flushing "
                  "the datapath flow caches; a packet that misses goes to the agent, and the "
                  "figure then includes its simulation of the virtual topology and the flow "
                  "it installs (its MAC and ARP tables and routes stay known); a proactive "
                  "flow (no idle timeout) stays, as the peers' flows do. The first-packet "
                  "notes count the packets per sample (echo and reply) that went to an agent")
    change_note = ("change: POST of a BlackHole route for the destination /32 to the REST "
                   "API, then DELETE of that route")

    def __init__(self, vms: tuple[layout.VmPlan, ...] = layout.VMS) -> None:
        self.vms = vms  # the VMs of the sandbox, on the layout's two subnets
        self.router_id = ""
        self.api_url = ""
        self._sb: Sandbox | None = None
        self._token = ""
        self._routes: dict[str, str] = {}
        self._router_ports: dict[str, str] = {}  # subnet -> router port id
        self._chains: list[str] = []  # the chains of the NAT case in place

    def version(self) -> str:
        try:
            return importlib.metadata.version("ryu-midonet")
        except importlib.metadata.PackageNotFoundError:
            return ""

    def start(self, sb: Sandbox, run_dir: Path) -> None:
        if not sb.api_url:
            raise RuntimeError("the sandbox runs no REST API")
        self.api_url = sb.api_url
        self._sb = sb
        creds = sb.credentials()
        if creds is not None:  # logged in now: a change timed later is only the change
            self._token = creds.token(self.api_url)
        with _topology(sb) as topo:
            self._build(topo, sb)

    def _build(self, topo: Topology, sb: Sandbox) -> None:
        tz = topo.create("tunnelZone", {"name": "bench", "type": "vxlan"})
        for host in sb.hosts.values():
            topo.add_tunnel_zone_member(tz["id"], host.host_id, host.underlay_ip)
        router = topo.create("router", {"name": "r"})
        self.router_id = router["id"]
        for subnet, name in layout.SUBNETS.items():
            bridge = topo.create("bridge", {"name": name})
            rport = topo.create("port", {"portAddress": f"{subnet}.1",
                                         "networkLength": layout.PREFIX_LEN}, router["id"])
            self._router_ports[subnet] = rport["id"]
            bport = topo.create("port", {}, bridge["id"])
            topo.link(rport["id"], bport["id"])
            for plan in self.vms:
                if plan.subnet == subnet:
                    port = topo.create("port", {}, bridge["id"])
                    vm = sb.vm(plan.name)
                    topo.bind(vm.host.host_id, port["id"], vm.interface)

    def upcalls(self, sb: Sandbox) -> int | None:
        total = 0
        for host in sb.hosts.values():
            total += sum(int(n) for n in
                         _N_PACKETS.findall(host.ofctl("dump-flows", host.bridge, MISS_FLOWS)))
        return total

    def clear(self, sb: Sandbox) -> None:
        for host in sb.hosts.values():
            cookies = reactive_cookies(host.ofctl("dump-flows", host.bridge, SIMULATED_FLOWS))
            if cookies:  # all in one OpenFlow connection
                host.switch.ofctl("del-flows", host.bridge, "-",
                                  stdin="".join(f"cookie={c}/-1\n" for c in cookies))
        flush_datapath(sb)

    def block(self, sb: Sandbox, case: Case) -> None:
        body = {"srcNetworkAddr": "0.0.0.0", "srcNetworkLength": 0,
                "dstNetworkAddr": sb.vm(case.dst).ip, "dstNetworkLength": 32,
                "type": "BlackHole", "weight": 100}
        req = urllib.request.Request(f"{self.api_url}/routers/{self.router_id}/routes",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": ROUTE_MEDIA, "Accept": ROUTE_MEDIA})
        with self._send(req) as resp:
            location = resp.headers.get("Location") or json.loads(resp.read())["uri"]
        self._routes[case.key] = location

    def unblock(self, sb: Sandbox, case: Case) -> None:
        location = self._routes.pop(case.key)
        req = urllib.request.Request(location, method="DELETE")
        with self._send(req):
            pass

    def _send(self, req: urllib.request.Request) -> Any:
        """``urlopen(req)`` as the sandbox's admin user, logging in again once on a 401."""
        try:
            return urllib.request.urlopen(self._authed(req, fresh=False), timeout=HTTP_TIMEOUT)
        except urllib.error.HTTPError as exc:
            if exc.code != 401:
                raise
        return urllib.request.urlopen(self._authed(req, fresh=True), timeout=HTTP_TIMEOUT)

    def _authed(self, req: urllib.request.Request, fresh: bool) -> urllib.request.Request:
        creds = self._sb.credentials() if self._sb else None
        if creds is not None and (fresh or not self._token):
            self._token = creds.token(self.api_url)
        if self._token:
            req.add_unredirected_header("X-Auth-Token", self._token)
        return req

    def configure(self, sb: Sandbox, case: Case) -> None:
        if not isinstance(case, nat.NatCase):
            raise TypeError(f"no configuration for {case.key}")
        uplink = self._router_ports[nat.OUTSIDE.subnet]
        inbound, outbound = nat.chains(case, uplink)
        with _topology(sb) as topo:
            ids = []
            for direction, rules in (("in", inbound), ("out", outbound)):
                chain = topo.create("chain", {"name": f"bench-{case.key}-{direction}"})
                self._chains.append(chain["id"])
                ids.append(chain["id"])
                for position, rule in enumerate(rules, start=1):
                    topo.create("rule", rule | {"position": position}, chain["id"])
            topo.update("router", self.router_id, {"inboundFilterId": ids[0],
                                                   "outboundFilterId": ids[1]})

    def unconfigure(self, sb: Sandbox, case: Case) -> None:
        with _topology(sb) as topo:
            topo.update("router", self.router_id, {"inboundFilterId": None,
                                                   "outboundFilterId": None})
            while self._chains:
                topo.delete("chain", self._chains[-1])
                self._chains.pop()


def reactive_cookies(dump: str) -> list[str]:
    """The cookies of the flows in an ``ovs-ofctl dump-flows`` listing that have an idle
    timeout: those the agent installed on a miss (proactive flows have none)."""
    found = []
    for line in dump.splitlines():
        match = _COOKIE.search(line)
        if match and "idle_timeout=" in line and match.group(1) not in found:
            found.append(match.group(1))
    return found


@contextmanager
def _topology(sb: Sandbox) -> Iterator[Topology]:
    store = Store.from_url(sb.redis_url)
    try:
        yield Topology(store)
    finally:
        store.redis.close()
