"""Dynamic NAT: masquerade, DNAT to a range, reverse rules, flow actions, state and scopes.

The topology::

    vm1 10.0.0.11, vm2 10.0.0.12 --[br]-- br:up ~ r:in 10.0.0.1/24
                                        router r   r:out 198.51.100.1/24 (uplink, default route)
"""

from __future__ import annotations

from typing import Any

import pytest
from sim_tenant import FAR, GW_IP, REMOTE, RIN, ROUT, VM1, VM2, tcp, tenant, tenant_state

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.builders.chains import port_group
from ryu_midonet.datapath import packets
from ryu_midonet.datapath.flows import FlowSpec, set_field
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import IP_UDP, Packet, Result
from ryu_midonet.sim.state import State
from ryu_midonet.sim.state.flowstate import MemoryFlowTable
from tests.support.matchers import assert_dropped, has_step
from tests.support.topology import MemoryTopology


@pytest.fixture
def b() -> MemoryTopology:
    return tenant()


def masquerade(b: MemoryTopology, target: str = f"{GW_IP}:1-65535") -> None:
    b.rule(b.objects["chain"]["pre"], "rev_snat", nwDstAddress=GW_IP, inPorts=["r:out"])
    b.rule(b.objects["chain"]["post"], "snat", outPorts=["r:out"], natTargets=[target])


@pytest.fixture
def state() -> State:
    return tenant_state()


def sets(result: Result) -> dict[str, Any]:
    (output,) = result.outputs
    return {r.field: r.value for r in output.rewrites if r.op == "set"}


def outgoing(vm: int = 1, sport: int = 40000, dst: str = REMOTE, dport: int = 443) -> Packet:
    mac = VM1 if vm == 1 else VM2
    return tcp(mac, RIN, f"10.0.0.1{vm}", dst, sport, dport)


def test_masquerade_and_its_return(b: MemoryTopology, state: State) -> None:
    masquerade(b)
    forward = simulate(b.view(), state, "vm1", outgoing())
    port = sets(forward)["tcp_src"]
    assert sets(forward)["ipv4_src"] == GW_IP
    fwd_key = f"nat:snat:r:6:10.0.0.11:40000:{REMOTE}:443"
    rev_key = f"nat:rev_snat:r:6:{REMOTE}:443:{GW_IP}:{port}"
    assert forward.state_keys == {fwd_key, rev_key}
    assert state.flows.get(fwd_key) == f"{GW_IP}:{port}"
    assert state.flows.get(rev_key) == "10.0.0.11:40000"
    assert fwd_key not in forward.tags  # written by this decision, not read
    again = simulate(b.view(), state, "vm1", outgoing())
    assert sets(again) == sets(forward) and fwd_key in again.tags  # the same translation
    back = simulate(b.view(), state, "r:out", tcp(FAR, ROUT, REMOTE, GW_IP, 443, port))
    assert back.outputs[0].port_id == "vm1"
    assert sets(back)["ipv4_dst"] == "10.0.0.11" and sets(back)["tcp_dst"] == 40000
    assert rev_key in back.tags and {rev_key, fwd_key} <= back.state_keys


def test_ports_are_unique_towards_a_destination(b: MemoryTopology, state: State) -> None:
    masquerade(b)
    one = simulate(b.view(), state, "vm1", outgoing())
    two = simulate(b.view(), state, "vm2", outgoing(vm=2))  # same source port, same remote
    assert sets(one)["tcp_src"] != sets(two)["tcp_src"]
    elsewhere = simulate(b.view(), state, "vm2", outgoing(vm=2, dst="9.9.9.9"))
    assert sets(elsewhere)["ipv4_src"] == GW_IP  # another destination may share a port


def test_a_target_without_ports_keeps_the_port(b: MemoryTopology, state: State) -> None:
    masquerade(b, "198.51.100.2-198.51.100.3")  # a range: dynamic, no ports
    one = simulate(b.view(), state, "vm1", outgoing())
    two = simulate(b.view(), state, "vm2", outgoing(vm=2))
    assert (sets(one)["ipv4_src"], sets(two)["ipv4_src"]) == ("198.51.100.2", "198.51.100.3")
    assert "tcp_src" not in sets(one) and "tcp_src" not in sets(two)
    assert simulate(b.view(), state, "vm1", outgoing(sport=40001)).outputs
    third = simulate(b.view(), state, "vm1", tcp(VM1, RIN, "10.0.0.13", REMOTE, 40000, 443))
    assert third.dropped and not third.cacheable  # every (address, port) is taken


def test_reverse_rules_without_state_continue(b: MemoryTopology, state: State) -> None:
    masquerade(b)
    b.rule(b.objects["chain"]["pre"], "drop", nwDstAddress=GW_IP)
    stray = simulate(b.view(), state, "r:out", tcp(FAR, ROUT, REMOTE, GW_IP, 443, 1234))
    assert_dropped(stray)
    assert has_step(stray, "rev_snat: no translation recorded")
    assert f"nat:rev_snat:r:6:{REMOTE}:443:{GW_IP}:1234" in stray.tags  # appearing changes it


def test_dnat_to_a_range_and_rev_dnat(b: MemoryTopology, state: State) -> None:
    b.rule(b.objects["chain"]["pre"], "dnat", nwDstAddress="198.51.100.80",
         natTargets=["10.0.0.11-10.0.0.12:8080-8081"])
    b.rule(b.objects["chain"]["post"], "rev_dnat", outPorts=["r:out"])
    clients = [tcp(FAR, ROUT, f"203.0.113.{n}", "198.51.100.80", 5000 + n, 80)
               for n in range(1, 9)]
    chosen = {}
    for packet in clients:
        result = simulate(b.view(), state, "r:out", packet)
        s = sets(result)
        assert s["ipv4_dst"] in ("10.0.0.11", "10.0.0.12") and s["tcp_dst"] in (8080, 8081)
        assert result.outputs[0].port_id == ("vm1" if s["ipv4_dst"] == "10.0.0.11" else "vm2")
        assert simulate(b.view(), state, "r:out", packet).outputs == result.outputs  # sticky
        chosen[packet.ipv4_src] = (s["ipv4_dst"], s["tcp_dst"])
    assert len(set(chosen.values())) > 1  # spread by the hash
    client, (server, port) = clients[0], chosen[clients[0].ipv4_src]
    vm, mac = ("vm1", VM1) if server == "10.0.0.11" else ("vm2", VM2)
    reply = tcp(mac, RIN, server, client.ipv4_src, port, client.tcp_src)
    back = simulate(b.view(), state, vm, reply)
    assert sets(back)["ipv4_src"] == "198.51.100.80" and sets(back)["tcp_src"] == 80


def test_flow_actions_after_translating(b: MemoryTopology, state: State) -> None:
    pre = b.objects["chain"]["pre"]
    b.rule(pre, "dnat", flowAction="continue", nwDstAddress="198.51.100.80",
         natTargets=["10.0.0.11:8080"])
    b.rule(pre, "accept", nwDstAddress="10.0.0.11", tpDst={"start": 8080, "end": 8080})
    b.rule(pre, "drop")
    to_vip = tcp(FAR, ROUT, "203.0.113.1", "198.51.100.80", 5001, 80)
    assert sets(simulate(b.view(), state, "r:out", to_vip))["tcp_dst"] == 8080
    pre["ruleIds"].clear()
    b.rule(pre, "jump", jumpChainId="sub")
    b.rule(pre, "drop", nwDstAddress="10.0.0.11")  # after the return: sees the new address
    sub = b.chain("sub")
    b.rule(sub, "dnat", flowAction="return", natTargets=["10.0.0.11:8080"])
    b.rule(sub, "accept")
    assert_dropped(simulate(b.view(), state, "r:out", to_vip))


def test_dst_rewritten_condition(b: MemoryTopology, state: State) -> None:
    b.rule(b.objects["chain"]["pre"], "dnat", nwDstAddress="198.51.100.80",
         natTargets=["10.0.0.11:8080"])
    post = b.objects["chain"]["post"]
    b.rule(post, "accept", matchNwDstRewritten=True)
    b.rule(post, "drop")
    assert simulate(b.view(), state, "r:out",
                    tcp(FAR, ROUT, "203.0.113.1", "198.51.100.80", 5001, 80)).outputs
    assert simulate(b.view(), state, "r:out",
                    tcp(FAR, ROUT, "203.0.113.1", "10.0.0.11", 5001, 8080)).dropped


def test_entries_of_a_packet_dropped_later_are_undone(b: MemoryTopology, state: State) -> None:
    masquerade(b)
    guard = b.chain("uplink-out")
    b.rule(guard, "drop", tpSrc={"start": 1, "end": 65535}, nwProto=6)
    b.objects["port"]["r:out"]["outboundFilterId"] = guard["id"]
    announced: list[str] = []
    assert isinstance(state.flows, MemoryFlowTable)
    state.flows.listeners.append(announced.append)
    result = simulate(b.view(), state, "vm1", outgoing())
    assert result.dropped and not result.state_keys
    assert not state.flows.data  # written, then deleted
    assert len(announced) == 4


def test_udp_and_unsupported_protocols(b: MemoryTopology, state: State) -> None:
    masquerade(b)
    dns = outgoing().replace(ip_proto=IP_UDP, tcp_src=None, tcp_dst=None, udp_src=5353,
                             udp_dst=53)
    s = sets(simulate(b.view(), state, "vm1", dns))
    assert s["ipv4_src"] == GW_IP and "udp_src" in s
    gre = outgoing().replace(ip_proto=47, tcp_src=None, tcp_dst=None)
    result = simulate(b.view(), state, "vm1", gre)  # dynamic NAT ignores it: goes on
    assert "ipv4_src" not in sets(result)


def test_non_first_fragments_never_meet_dynamic_nat(b: MemoryTopology, state: State) -> None:
    masquerade(b)
    later = outgoing().replace(ip_frag="later", tcp_src=None, tcp_dst=None)
    result = simulate(b.view(), state, "vm1", later)
    assert "ipv4_src" not in sets(result) and "ip_frag" in result.fields_read


def test_conntrack_records_the_translated_connection(b: MemoryTopology, state: State) -> None:
    masquerade(b)
    vm_in = b.chain("vm-in")
    b.rule(vm_in, "accept", matchReturnFlow=True)
    b.rule(vm_in, "accept")
    b.objects["port"]["vm1"]["inboundFilterId"] = vm_in["id"]
    up_in = b.chain("up-in")
    b.rule(up_in, "accept", matchReturnFlow=True)
    b.rule(up_in, "drop")
    b.objects["port"]["r:out"]["inboundFilterId"] = up_in["id"]
    port = sets(simulate(b.view(), state, "vm1", outgoing()))["tcp_src"]
    assert state.flows.get(f"ct:r:6:{REMOTE}:443:{GW_IP}:{port}") is not None
    back = simulate(b.view(), state, "r:out", tcp(FAR, ROUT, REMOTE, GW_IP, 443, port))
    assert back.outputs[0].port_id == "vm1"
    assert_dropped(simulate(b.view(), state, "r:out", tcp(FAR, ROUT, REMOTE, GW_IP, 443, 7)))


# -- NAT through a stateful port group ---------------------------------------------------------

@pytest.fixture
def gateways() -> tuple[MemoryTopology, State]:
    """vm -- t -- t:a ~ gw1 (gw1:up), t:b ~ gw2 (gw2:up); gateways masquerade as 203.0.113.100."""
    b = MemoryTopology()
    br, t, gw1, gw2 = b.bridge("br"), b.router("t"), b.router("gw1"), b.router("gw2")
    b.bridge_port(br, port_id="vm")
    b.link(b.bridge_port(br, port_id="br:up"),
           b.router_port(t, "10.0.0.1/24", RIN, port_id="t:in"))
    t_a = b.router_port(t, "192.168.1.2/30", "02:aa:00:00:00:01", port_id="t:a")
    t_b = b.router_port(t, "192.168.2.2/30", "02:aa:00:00:00:02", port_id="t:b")
    b.link(t_a, b.router_port(gw1, "192.168.1.1/30", "02:aa:00:00:00:03", port_id="gw1:in"))
    b.link(t_b, b.router_port(gw2, "192.168.2.1/30", "02:aa:00:00:00:04", port_id="gw2:in"))
    for gw, n in ((gw1, 1), (gw2, 2)):
        up = b.router_port(gw, f"203.0.113.{n}/24", f"02:aa:00:00:01:0{n}", host=f"h{n}",
                           port_id=f"{gw['id']}:up")
        b.route(gw, "0.0.0.0/0", up, gw="203.0.113.254")
        pre, post = b.chain(f"{gw['id']}-pre"), b.chain(f"{gw['id']}-post")
        b.rule(pre, "rev_snat", nwDstAddress="203.0.113.100", inPorts=[up["id"]])
        b.rule(post, "snat", outPorts=[up["id"]], natTargets=["203.0.113.100:1024-65535"])
        gw.update(inboundFilterId=pre["id"], outboundFilterId=post["id"])
    b.route(t, "0.0.0.0/0", t_a, gw="192.168.1.1")
    b.route(gw1, "10.0.0.0/24", b.objects["port"]["gw1:in"], gw="192.168.1.2")
    b.route(gw2, "10.0.0.0/24", b.objects["port"]["gw2:in"], gw="192.168.2.2")
    state = State.in_memory()
    state.arps.put("gw1", "203.0.113.254", FAR)
    state.arps.put("t", "10.0.0.11", VM1)
    state.macs.learn("br", VM1, None, "vm")
    return b, state


def test_nat_state_is_shared_by_a_stateful_group(gateways: tuple[MemoryTopology, State]) -> None:
    b, state = gateways
    forward = simulate(b.view(), state, "vm", outgoing())
    port = sets(forward)["tcp_src"]
    reply = tcp(FAR, "02:aa:00:00:01:02", REMOTE, "203.0.113.100", 443, port)
    assert_dropped(simulate(b.view(), state, "gw2:up", reply))  # gw2 knows no translation
    port_group(b, "uplinks", ["gw1:up", "gw2:up"], stateful=True)
    forward = simulate(b.view(), state, "vm", outgoing(sport=40001))
    port = sets(forward)["tcp_src"]
    assert any(k.startswith("nat:rev_snat:uplinks:") for k in forward.state_keys)
    back = simulate(b.view(), state, "gw2:up", reply.replace(tcp_dst=port))
    assert back.outputs[0].port_id == "vm"
    assert sets(back)["ipv4_dst"] == "10.0.0.11" and sets(back)["tcp_dst"] == 40001


# -- what the agent makes of it ------------------------------------------------------------------

def test_the_agent_installs_a_per_connection_flow_with_the_translation(
        b: MemoryTopology, state: State) -> None:
    masquerade(b)
    b.objects["port"]["vm1"]["hostId"] = "gw"  # the VM and the uplink on the agent's host
    index = FlowIndex()
    handler = PacketHandler(b.view(), state, index, "gw", {"vm1": 1, "r:out": 2}, {})
    packet = outgoing()
    messages = handler.handle("vm1", 1, packet, packets.build(packet))
    (flow,) = [m for m in messages if isinstance(m, FlowSpec)]
    assert handler.last is not None
    port = sets(handler.last)["tcp_src"]
    assert {"tcp_src": 40000, "tcp_dst": 443, "ipv4_src": "10.0.0.11",
            "ipv4_dst": REMOTE}.items() <= flow.match.items()
    assert set_field("ipv4_src", GW_IP) in flow.actions
    assert set_field("tcp_src", port) in flow.actions
