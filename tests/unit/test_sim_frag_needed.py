"""A router's inbound chain dropping a fragmented datagram: the sender hears of it once.

The topology (as in the chain evaluation tests)::

    vm1, vm2 --[bridge br]-- br:up ~ r:in 10.0.0.1/24
                                 router r   r:out 192.0.2.1/24 (exterior) -> 192.0.2.10
"""

from __future__ import annotations

import pytest

from ryu_midonet.datapath.translator import cacheable
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Emit, Packet
from ryu_midonet.sim.core.packets import ip_quote
from ryu_midonet.sim.state import State
from tests.support import packets
from tests.support.matchers import assert_dropped, assert_outputs
from tests.support.topology import MemoryTopology
from tests.unit.sim_tenant import vms_behind_router

VM1, RIN, ROUT, OUT = (f"02:00:00:00:00:0{n}" for n in (1, 3, 4, 5))


@pytest.fixture
def b() -> MemoryTopology:
    return vms_behind_router("192.0.2.1/24")[0]


@pytest.fixture
def state() -> State:
    state = State.in_memory()
    state.arps.put("r", "192.0.2.10", OUT)
    state.macs.learn("br", VM1, None, "vm1")
    return state


def udp(frag: str = "no") -> Packet:
    p = packets.udp(VM1, RIN, "10.0.0.11", "192.0.2.10", 5000, 53, ip_frag=frag)
    return p.replace(udp_src=None, udp_dst=None) if frag == "later" else p


def frag_needed(about: Packet) -> Emit:
    return Emit("vm1", packets.icmp(RIN, VM1, "10.0.0.1", "10.0.0.11", 3, 4,
                                           payload=ip_quote(about)))


def drop_on(b: MemoryTopology, where: str, **condition: object) -> None:
    c = b.chain("c")
    b.rule(c, "drop", **condition)
    if where == "router":
        b.objects["router"]["r"]["inboundFilterId"] = c["id"]
    else:
        b.objects["port"][where]["inboundFilterId"] = c["id"]


@pytest.mark.parametrize("where", ["router", "r:in"])
def test_dropped_first_fragment_gets_fragmentation_needed(b: MemoryTopology, state: State,
                                                          where: str) -> None:
    drop_on(b, where)
    first = udp("first")
    result = simulate(b.view(), state, "vm1", first)
    assert_dropped(result)
    assert result.emits == [frag_needed(first)]
    # every dropped first fragment is answered: nothing may be cached
    assert not cacheable(result)
    assert simulate(b.view(), state, "vm1", first).emits == [frag_needed(first)]


def test_the_quote_says_first_fragment(b: MemoryTopology, state: State) -> None:
    drop_on(b, "router")
    quote = simulate(b.view(), state, "vm1", udp("first")).emits[0].packet.payload
    assert quote[6:8] == b"\x20\x00"  # more fragments, offset 0


def test_later_fragments_and_whole_datagrams_are_dropped_silently(b: MemoryTopology,
                                                                   state: State) -> None:
    drop_on(b, "router")
    for packet in (udp("later"), udp("no")):
        result = simulate(b.view(), state, "vm1", packet)
        assert result.dropped and not result.emits
        # cached as drops, for that kind of packet only
        assert result.cacheable and "ip_frag" in result.fields_read


def test_a_header_only_drop_rule_answers_first_fragments_and_passes_later_ones(
        b: MemoryTopology, state: State) -> None:
    drop_on(b, "router", fragmentPolicy="header")
    assert simulate(b.view(), state, "vm1", udp("first")).emits == [frag_needed(udp("first"))]
    later = simulate(b.view(), state, "vm1", udp("later"))
    assert_outputs(later, "r:out")
    assert not later.emits


def test_outbound_chain_and_bridge_drops_send_nothing(b: MemoryTopology,
                                                      state: State) -> None:
    c = b.chain("c")
    b.rule(c, "drop")
    b.objects["router"]["r"]["outboundFilterId"] = c["id"]
    assert not simulate(b.view(), state, "vm1", udp("first")).emits
    b.objects["router"]["r"]["outboundFilterId"] = None
    b.objects["port"]["vm1"]["inboundFilterId"] = c["id"]
    assert not simulate(b.view(), state, "vm1", udp("first")).emits


def test_reject_keeps_its_own_answer(b: MemoryTopology, state: State) -> None:
    c = b.chain("c")
    b.rule(c, "reject")
    b.objects["router"]["r"]["inboundFilterId"] = c["id"]
    emits = simulate(b.view(), state, "vm1", udp("first")).emits
    assert [e.packet.icmpv4_code for e in emits] == [13]
