"""Rule-chain evaluation: where chains run, rule order, actions, jumps, tags and reads.

The topology::

    vm1, vm2 --[bridge br]-- br:up ~ r:in 10.0.0.1/24
                                 router r   r:out 192.0.2.1/24 (exterior) -> 192.0.2.10
"""

from __future__ import annotations

import pytest

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.context import Frame, Where
from ryu_midonet.sim.core.filters import AcceptAll
from ryu_midonet.sim.core.model import Emit, Packet, Result
from ryu_midonet.sim.core.packets import ip_quote
from ryu_midonet.sim.core.walk import Walk
from ryu_midonet.sim.rules.chains import ACCEPT, CONTINUE, DROP, RETURN, run_chain
from ryu_midonet.sim.state import State
from ryu_midonet.types import Obj
from tests.support import packets
from tests.support.matchers import assert_dropped, out_ports
from tests.support.topology import MemoryTopology
from tests.unit.sim_tenant import vms_behind_router

VM1, VM2, RIN, ROUT, OUT = (f"02:00:00:00:00:0{n}" for n in range(1, 6))


@pytest.fixture
def b() -> MemoryTopology:
    return vms_behind_router("192.0.2.1/24")[0]


@pytest.fixture
def state() -> State:
    state = State.in_memory()
    state.arps.put("r", "192.0.2.10", OUT)
    state.arps.put("r", "10.0.0.11", VM1)
    return state


def tcp(src_mac: str = VM1, dst_mac: str = RIN, src: str = "10.0.0.11",
        dst: str = "192.0.2.10", sport: int = 40000, dport: int = 80) -> Packet:
    return packets.tcp(src_mac, dst_mac, src, dst, sport, dport)


def routed(result: Result) -> bool:
    return out_ports(result) == ["r:out"]


def attach(obj: Obj, inbound: Obj | None = None, outbound: Obj | None = None) -> None:
    if inbound is not None:
        obj["inboundFilterId"] = inbound["id"]
    if outbound is not None:
        obj["outboundFilterId"] = outbound["id"]


# -- where chains run ----------------------------------------------------------------------

def test_chains_run_in_the_order_the_packet_meets_them(b: MemoryTopology,
                                                       state: State) -> None:
    names = ["vm1-in", "br-in", "br-out", "up-out", "rin-in", "r-in", "r-out", "rout-out"]
    chains = {n: b.chain(n) for n in names}
    for c in chains.values():
        b.rule(c, "continue", rule_id=f"{c['id']}-mark")
    ports = b.objects["port"]
    attach(ports["vm1"], inbound=chains["vm1-in"])
    attach(b.objects["bridge"]["br"], chains["br-in"], chains["br-out"])
    attach(ports["br:up"], outbound=chains["up-out"])
    attach(ports["r:in"], inbound=chains["rin-in"])
    attach(b.objects["router"]["r"], chains["r-in"], chains["r-out"])
    attach(ports["r:out"], outbound=chains["rout-out"])
    result = simulate(b.view(), state, "vm1", tcp())
    assert routed(result)
    seen = [n for s in result.steps for n in names if f"chain {n} " in s.decision]
    assert seen == names
    assert {f"{n}-mark" for n in names} | set(names) <= result.tags


def test_router_inbound_chain_sees_in_ports_and_outbound_sees_both(b: MemoryTopology,
                                                                   state: State) -> None:
    pre, post = b.chain("pre"), b.chain("post")
    b.rule(pre, "drop", inPorts=["r:in"], invInPorts=True)  # only r:in may send in
    b.rule(pre, "drop", outPorts=["r:out"])  # no egress port known yet: never matches
    b.rule(post, "accept", inPorts=["r:in"], outPorts=["r:out"], nwDstAddress="192.0.2.10")
    b.rule(post, "drop")
    attach(b.objects["router"]["r"], pre, post)
    assert routed(simulate(b.view(), state, "vm1", tcp()))
    assert_dropped(simulate(b.view(), state, "vm1", tcp(dst="192.0.2.20")))
    back = tcp(OUT, ROUT, "192.0.2.10", "10.0.0.11", 80, 40000)
    assert_dropped(simulate(b.view(), state, "r:out", back))  # by the pre-routing chain


def test_no_chains_reads_and_tags_nothing_more(b: MemoryTopology) -> None:
    results = []
    for filters in (None, AcceptAll()):
        state = State.in_memory()
        state.arps.put("r", "192.0.2.10", OUT)
        results.append(simulate(b.view(), state, "vm1", tcp(), filters))
    assert results[0] == results[1]


# -- rule order and actions ------------------------------------------------------------------

def evaluate(b: MemoryTopology, state: State, c: Obj, packet: Packet) -> tuple[str, Result]:
    walk = Walk(b.view(), state, AcceptAll(), packet)
    where = Where(b.objects["router"]["r"], b.objects["port"]["r:in"])
    verdict, _ = run_chain(walk, c["id"], where, Frame(packet))
    return verdict, walk.result


def test_rules_run_in_position_order(b: MemoryTopology, state: State) -> None:
    c = b.chain("c")
    b.rule(c, "accept")
    b.rule(c, "drop", pos=1)  # inserted before: wins
    assert evaluate(b, state, c, tcp())[0] == DROP


def test_continue_goes_on_and_the_end_of_a_chain_continues(b: MemoryTopology,
                                                           state: State) -> None:
    c = b.chain("c")
    b.rule(c, "continue")
    b.rule(c, "drop", nwProto=17)
    assert evaluate(b, state, c, tcp())[0] == CONTINUE
    attach(b.objects["router"]["r"], c)
    assert routed(simulate(b.view(), state, "vm1", tcp()))  # the end of a chain accepts


def test_return_at_top_level_ends_the_chain_and_accepts(b: MemoryTopology,
                                                        state: State) -> None:
    c = b.chain("c")
    b.rule(c, "return")
    b.rule(c, "drop")
    assert evaluate(b, state, c, tcp())[0] == RETURN
    attach(b.objects["router"]["r"], c)
    assert routed(simulate(b.view(), state, "vm1", tcp()))


def test_jump_return_continues_after_the_jump(b: MemoryTopology, state: State) -> None:
    top, sub = b.chain("top"), b.chain("sub")
    b.rule(top, "jump", jumpChainId="sub")
    b.rule(top, "drop", nwDstAddress="192.0.2.10")
    b.rule(sub, "return", nwDstAddress="192.0.2.10")
    b.rule(sub, "accept")
    verdict, result = evaluate(b, state, top, tcp())
    assert verdict == DROP  # returned from sub, then the drop after the jump
    assert {"top", "sub", "top/rule0", "top/rule1", "sub/rule0"} <= result.tags
    assert evaluate(b, state, top, tcp(dst="192.0.2.20"))[0] == ACCEPT  # decided in sub


def test_a_jump_that_does_not_match_goes_on_in_its_own_chain(b: MemoryTopology,
                                                             state: State) -> None:
    top, sub = b.chain("top"), b.chain("sub")
    b.rule(top, "jump", jumpChainId="sub", nwProto=17)
    b.rule(top, "accept")
    b.rule(sub, "drop")
    verdict, result = evaluate(b, state, top, tcp())
    assert verdict == ACCEPT and "sub" not in result.tags


def test_jump_to_a_chain_already_running_drops(b: MemoryTopology, state: State) -> None:
    one, two = b.chain("one"), b.chain("two")
    b.rule(one, "jump", jumpChainId="two")
    b.rule(two, "jump", jumpChainId="one")
    b.rule(one, "accept")
    assert evaluate(b, state, one, tcp())[0] == DROP


def test_jumping_twice_to_the_same_chain_is_no_loop(b: MemoryTopology, state: State) -> None:
    top, sub = b.chain("top"), b.chain("sub")
    b.rule(top, "jump", jumpChainId="sub")
    b.rule(top, "jump", jumpChainId="sub")
    b.rule(top, "drop")
    b.rule(sub, "continue")
    assert evaluate(b, state, top, tcp())[0] == DROP  # both jumps came back


def test_jump_to_a_missing_chain_continues_and_is_tagged(b: MemoryTopology,
                                                         state: State) -> None:
    c = b.chain("c")
    b.rule(c, "jump", jumpChainId="nowhere")
    b.rule(c, "accept")
    verdict, result = evaluate(b, state, c, tcp())
    assert verdict == ACCEPT and "nowhere" in result.tags  # creating it changes the decision


def test_a_missing_filter_chain_accepts_and_is_tagged(b: MemoryTopology, state: State) -> None:
    b.objects["router"]["r"]["inboundFilterId"] = "gone"
    result = simulate(b.view(), state, "vm1", tcp())
    assert routed(result) and "gone" in result.tags


def test_drop_is_silent(b: MemoryTopology, state: State) -> None:
    c = b.chain("c")
    b.rule(c, "drop")
    attach(b.objects["router"]["r"], c)
    result = simulate(b.view(), state, "vm1", tcp())
    assert result.dropped and not result.emits and result.cacheable


def test_reject_on_a_router_answers_administratively_prohibited(b: MemoryTopology,
                                                                state: State) -> None:
    c = b.chain("c")
    b.rule(c, "reject", nwDstAddress="192.0.2.10")
    attach(b.objects["router"]["r"], outbound=c)  # post-routing: the TTL was decremented
    state.macs.learn("br", VM1, None, "vm1")
    packet = tcp()
    result = simulate(b.view(), state, "vm1", packet)
    assert_dropped(result)
    assert result.emits == [Emit("vm1", packets.icmp(
        RIN, VM1, "10.0.0.1", "10.0.0.11", 3, 13,
        payload=ip_quote(packet)))]  # quotes the packet as it entered the router


def test_reject_on_a_bridge_only_drops(b: MemoryTopology, state: State) -> None:
    c = b.chain("c")
    b.rule(c, "reject")
    attach(b.objects["port"]["vm1"], inbound=c)
    result = simulate(b.view(), state, "vm1", tcp())
    assert result.dropped and not result.emits


def test_cond_invert_inverts_the_whole_condition(b: MemoryTopology, state: State) -> None:
    c = b.chain("c")
    b.rule(c, "drop", nwProto=6, tpDst={"start": 80, "end": 80}, condInvert=True)
    assert evaluate(b, state, c, tcp())[0] == CONTINUE  # (tcp AND 80) holds: inverted false
    assert evaluate(b, state, c, tcp(dport=22))[0] == DROP


def test_unknown_rule_types_and_missing_rules_are_skipped(b: MemoryTopology,
                                                          state: State) -> None:
    c = b.chain("c")
    c["ruleIds"].append("ghost")
    b.rule(c, "drop")
    verdict, result = evaluate(b, state, c, tcp())
    assert verdict == DROP and "ghost" in result.tags


# -- what the decision depends on -----------------------------------------------------------

def test_only_the_fields_conditions_examined_are_read(b: MemoryTopology,
                                                      state: State) -> None:
    c = b.chain("c")
    b.rule(c, "drop", nwProto=17)  # fails on ip_proto: nothing after it is read
    b.rule(c, "accept", nwSrcAddress="10.0.0.0", nwSrcLength=8, tpDst={"start": 80})
    verdict, result = evaluate(b, state, c, tcp())
    assert verdict == ACCEPT
    assert result.fields_read == {"eth_type", "ip_proto", "ipv4_src", "tcp_dst", "ip_frag"}
    verdict, result = evaluate(b, state, c, tcp().replace(ip_proto=17, tcp_src=None,
                                                          tcp_dst=None, udp_src=1, udp_dst=2))
    assert verdict == DROP and result.fields_read == {"eth_type", "ip_proto"}


def test_rules_after_a_rewrite_see_the_new_packet_and_do_not_read_it(
        b: MemoryTopology, state: State) -> None:
    c = b.chain("c")
    b.rule(c, "dnat", flowAction="continue", nwDstAddress="198.51.100.7",
         natTargets=["192.0.2.10"])
    b.rule(c, "accept", nwDstAddress="192.0.2.10")
    b.rule(c, "drop")
    attach(b.objects["router"]["r"], c)
    result = simulate(b.view(), state, "vm1", tcp(dst="198.51.100.7"))
    assert routed(result)
    assert ("set", "ipv4_dst", "192.0.2.10") in [(r.op, r.field, r.value)
                                                 for r in result.outputs[0].rewrites]
    assert result.cacheable and not result.state_keys  # static NAT keeps no state


def test_arp_does_not_meet_router_chains(b: MemoryTopology, state: State) -> None:
    c = b.chain("c")
    b.rule(c, "drop")
    attach(b.objects["router"]["r"], c)
    arp = packets.arp(1, VM1, "10.0.0.11", "10.0.0.1")
    result = simulate(b.view(), state, "vm1", arp)
    assert result.outputs == [] and len(result.emits) == 1  # to the router port only
