"""Proactive flows through several routers: a tenant's VM reaches another tenant's VM through
the provider router on its first packet, a traceroute through such a flow is answered by each
router in turn, and a far router's new ARP entry brings the flow to the ports behind the
provider."""

from __future__ import annotations

from ryu_midonet.agent.proactive import Compiler
from ryu_midonet.datapath.flows import FlowSpec
from ryu_midonet.sim.core.model import Packet
from ryu_midonet.sim.state import State, arp_tag
from tests.support.flowcheck import AgentHost, Fabric, check
from tests.support.packets import icmp
from tests.support.topology import MemoryTopology

HOSTS = {"hostA": "192.0.2.1", "hostB": "192.0.2.2"}
VM1, VM2 = "02:00:00:00:01:0a", "02:00:00:00:02:0a"
R1_MAC, R2_MAC = "02:00:00:01:01:01", "02:00:00:02:02:01"
VM2_IP = "10.0.2.10"


def _tenants() -> tuple[MemoryTopology, State]:
    """vm1 (hostA) on b1 10.0.1.0/24 behind tenant router r1, linked to provider router r0
    over 172.16.0.0/30; vm2 (hostB) on b2 10.0.2.0/24 behind tenant router r2, linked to r0
    through the provider bridge pub (100.64.0.0/24: r0 at .1, r2 at .3). Tables filled but
    for r2's entry of vm2."""
    b = MemoryTopology()
    r0, r1, r2 = b.router("r0"), b.router("r1"), b.router("r2")
    b1, b2, pub = b.bridge("b1"), b.bridge("b2"), b.bridge("pub")
    b.bridge_port(b1, host="hostA", port_id="vm1")
    b.bridge_port(b2, host="hostB", port_id="vm2")
    b.link(b.bridge_port(b1, host=None), b.router_port(r1, "10.0.1.1/24", R1_MAC))
    b.link(b.bridge_port(b2, host=None), b.router_port(r2, "10.0.2.1/24", R2_MAC))
    up, down = (b.router_port(r0, "172.16.0.1/30", "02:00:00:00:80:01"),
                b.router_port(r1, "172.16.0.2/30", "02:00:00:01:80:02"))
    b.link(up, down)
    pub0, pub2 = (b.router_port(r0, "100.64.0.1/24", "02:00:00:00:64:01"),
                  b.router_port(r2, "100.64.0.3/24", "02:00:00:02:64:03"))
    b.link(b.bridge_port(pub, host=None), pub0)
    b.link(b.bridge_port(pub, host=None), pub2)
    b.route(r1, "0.0.0.0/0", down, gw="172.16.0.1")
    b.route(r2, "0.0.0.0/0", pub2, gw="100.64.0.1")
    b.route(r0, "10.0.1.0/24", up, gw="172.16.0.2")
    b.route(r0, "10.0.2.0/24", pub0, gw="100.64.0.3")
    b._put("tunnelZone", "tz", name="tz", type="vxlan", hostIds=list(HOSTS),
           tzHosts=[{"hostId": h, "ipAddress": ip} for h, ip in HOSTS.items()])
    for key, port in enumerate(b.objects["port"].values(), start=1):
        port["tunnelKey"] = key
    state = State.in_memory(clock=lambda: 1000.0)
    state.macs.learn("b1", VM1, None, "vm1")
    state.macs.learn("b2", VM2, None, "vm2")
    state.arps.put("r1", "10.0.1.10", VM1)
    return b, state


def _fabric(max_per_port: int = 256) -> tuple[Fabric, dict[str, Compiler], State]:
    b, state = _tenants()
    fabric = Fabric(b.view(), state, {"hostA": {"vm1": 1}, "hostB": {"vm2": 1}}, HOSTS)
    compilers = {name: _compiler(h, max_per_port) for name, h in fabric.hosts.items()}
    return fabric, compilers, state


def _compiler(host: AgentHost, max_per_port: int) -> Compiler:
    compiler = Compiler(host.view, host.state, host.index, host.name, host.ofports,
                        host.tunnels, max_per_port=max_per_port)
    compiler.everything()
    return compiler


def _compile(fabric: Fabric, compilers: dict[str, Compiler]) -> list[FlowSpec]:
    flows = []
    for name, compiler in compilers.items():
        messages = compiler.compile()
        fabric.hosts[name].apply(messages)
        flows += [m for m in messages if isinstance(m, FlowSpec)]
    return flows


def _ping(ttl: int = 64) -> Packet:
    return icmp(VM1, R1_MAC, "10.0.1.10", VM2_IP, ttl=ttl, ip_dscp=0, ip_ecn=0, ip_frag="no",
                payload=b"\0\1\0\1")


def _to_vm2(flows: list[FlowSpec]) -> list[FlowSpec]:
    return [f for f in flows if f.match.get("ipv4_dst") == VM2_IP]


def test_a_far_arp_entry_brings_the_flow_through_the_provider() -> None:
    fabric, compilers, state = _fabric()
    assert _to_vm2(_compile(fabric, compilers)) == []  # r2 does not know vm2 yet
    state.arps.put("r2", VM2_IP, VM2)
    for compiler in compilers.values():
        compiler.state_changed(arp_tag("r2", VM2_IP))
    [flow] = _to_vm2(_compile(fabric, compilers))
    assert [str(a) for a in flow.actions].count("dec_ttl") == 3  # r1, r0, r2

    report = check(fabric, fabric.view, state, [("vm1", _ping())])
    assert report.mismatches == [], report.mismatches[0].text()
    assert (report.hits, report.misses) == (1, 0)  # the first packet reaches no agent
    [delivery] = fabric.send("vm1", _ping()).deliveries
    assert (delivery.host, delivery.headers["eth_src"], delivery.headers["eth_dst"],
            delivery.headers["nw_ttl"]) == ("hostB", R2_MAC, VM2, 61)
    fabric.close()


def test_each_router_on_a_proactive_path_answers_a_traceroute() -> None:
    fabric, compilers, state = _fabric()
    state.arps.put("r2", VM2_IP, VM2)
    assert _to_vm2(_compile(fabric, compilers))
    probes = [("vm1", _ping(ttl)) for ttl in (1, 2, 3, 4)]
    report = check(fabric, fabric.view, state, probes)
    assert report.mismatches == [], report.mismatches[0].text()
    answers = []
    for _, packet in probes:
        [delivery] = fabric.send("vm1", packet).deliveries
        answers.append((delivery.host, delivery.headers["ipv4_src"],
                        delivery.headers.get("icmpv4_type")))
    assert answers == [("hostA", "10.0.1.1", 11), ("hostA", "172.16.0.1", 11),
                       ("hostA", "100.64.0.3", 11),  # r1, r0, r2: time exceeded
                       ("hostB", "10.0.1.10", 8)]  # then vm2 gets the ping
    fabric.close()


def test_a_port_gets_no_more_flows_than_its_bound() -> None:
    fabric, compilers, state = _fabric(max_per_port=1)
    state.arps.put("r2", VM2_IP, VM2)
    state.arps.put("r2", "10.0.2.11", "02:00:00:00:02:0b")
    host = fabric.hosts["hostA"]
    messages = compilers["hostA"].compile()
    host.apply(messages)
    assert len([m for m in messages if isinstance(m, FlowSpec)]) == 1
    assert compilers["hostA"].installed("vm1") == 1
    fabric.close()
