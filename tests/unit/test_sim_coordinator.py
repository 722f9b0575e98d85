"""The walk between devices: interior links, loops, the rule-chain hook, rewrites."""

from __future__ import annotations

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.context import Context, Filtered, Frame
from ryu_midonet.sim.core.model import Output, Packet, Rewrite
from ryu_midonet.sim.core.trace import render
from ryu_midonet.sim.core.verdicts import ACCEPT, DROP
from ryu_midonet.sim.core.walk import MAX_HOPS, rewrites
from ryu_midonet.sim.state import State
from ryu_midonet.types import Obj
from tests.support import packets
from tests.support.matchers import assert_dropped, assert_step, has_step, outline, steps
from tests.support.topology import MemoryTopology

VM1, VM2, RMAC, OUT = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:aa:00:00:00:01", \
    "02:00:00:00:00:09"


def tcp(src_mac: str, dst_mac: str, dst: str = "10.0.0.2") -> Packet:
    return packets.tcp(src_mac, dst_mac, "10.0.0.1", dst, 1234, 80)


def test_ingress_through_an_interior_port_is_refused() -> None:
    b = MemoryTopology()
    one, two = b.bridge("one"), b.bridge("two")
    b.link(b.bridge_port(one, port_id="a"), b.bridge_port(two, port_id="b"))
    result = simulate(b.view(), State.in_memory(), "a", tcp(VM1, VM2))
    assert_dropped(result)
    assert "interior" in result.steps[0].decision


def test_a_frame_does_not_cross_a_bridge_twice() -> None:
    b = MemoryTopology()
    one, two = b.bridge("one"), b.bridge("two")
    b.bridge_port(one, port_id="vm")
    b.link(b.bridge_port(one, port_id="one:x"), b.bridge_port(two, port_id="two:x"))
    b.link(b.bridge_port(one, port_id="one:y"), b.bridge_port(two, port_id="two:y"))
    b.bridge_port(two, port_id="far")
    state = State.in_memory()
    result = simulate(b.view(), state, "vm", tcp(VM1, "ff:ff:ff:ff:ff:ff"))
    assert result.outputs == [Output("far")]  # once, and never back out of the ingress port
    assert len(steps(result, "(a loop)")) == 2
    assert state.macs.get("one", VM1, None) == "vm"  # not moved by the looping copies
    assert state.macs.get("two", VM1, None) == "two:x"


def routing_loop() -> MemoryTopology:
    b = MemoryTopology()
    r1, r2 = b.router("r1"), b.router("r2")
    b.router_port(r1, "10.0.0.1/24", RMAC, host="h", port_id="r1:in")
    a = b.router_port(r1, "192.168.0.1/30", "02:aa:00:00:00:02", port_id="r1:link")
    z = b.router_port(r2, "192.168.0.2/30", "02:aa:00:00:00:03", port_id="r2:link")
    b.link(a, z)
    b.route(r1, "0.0.0.0/0", a, gw="192.168.0.2")
    b.route(r2, "0.0.0.0/0", z, gw="192.168.0.1")
    return b


def test_a_routing_loop_ends_when_the_ttl_expires() -> None:
    state = State.in_memory()
    state.arps.put("r1", "10.0.0.7", VM1)
    packet = tcp(VM1, RMAC, "8.8.8.8").replace(ipv4_src="10.0.0.7", nw_ttl=5)
    result = simulate(routing_loop().view(), state, "r1:in", packet)
    assert result.dropped and not result.cacheable
    (emit,) = result.emits  # from whichever router saw TTL 1, routed back to the sender
    assert (emit.port_id, emit.packet.icmpv4_type, emit.packet.eth_dst) == ("r1:in", 11, VM1)


def test_a_long_routing_loop_stops_at_the_hop_limit() -> None:
    result = simulate(routing_loop().view(), State.in_memory(), "r1:in",
                      tcp(VM1, RMAC, "8.8.8.8"))
    assert result.dropped and not result.emits
    assert has_step(result, f"more than {MAX_HOPS} devices")


def test_dangling_link_drops() -> None:
    b = MemoryTopology()
    br = b.bridge("br")
    b.bridge_port(br, port_id="vm")
    b.bridge_port(br, port_id="dangling", peerId="gone", host=None)
    result = simulate(b.view(), State.in_memory(), "vm", tcp(VM1, "ff:ff:ff:ff:ff:ff"))
    assert_dropped(result)
    assert_step(result, "missing port gone")


class Recorder:
    """A stand-in for rule chains: records calls, drops or rewrites on demand."""

    def __init__(self, drop_out: str | None = None, rewrite_dst: str | None = None) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.drop_out = drop_out
        self.rewrite_dst = rewrite_dst

    def pre(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> Filtered:
        self.calls.append(("pre", device["id"], in_port["id"]))
        if self.rewrite_dst and in_port["type"] == "Router":
            ctx.read(frame, "ipv4_dst")
            ctx.tag("chain-dnat")
            return Filtered(ACCEPT, frame.set(ipv4_dst=self.rewrite_dst))
        return Filtered(ACCEPT, frame)

    def post(self, ctx: Context, device: Obj, out_port: Obj, frame: Frame) -> Filtered:
        self.calls.append(("post", device["id"], out_port["id"]))
        return Filtered(DROP if out_port["id"] == self.drop_out else ACCEPT, frame)


def routed() -> tuple[MemoryTopology, State]:
    b = MemoryTopology()
    br, r = b.bridge("br"), b.router("r")
    b.bridge_port(br, port_id="vm1")
    b.link(b.bridge_port(br, port_id="br:up"),
           b.router_port(r, "10.0.0.254/24", RMAC, port_id="r:in"))
    b.router_port(r, "192.0.2.1/24", "02:aa:00:00:00:02", host="h", port_id="r:out")
    state = State.in_memory()
    state.arps.put("r", "192.0.2.10", OUT)
    state.arps.put("r", "192.0.2.20", VM2)
    return b, state


def test_filters_are_called_on_entry_and_exit_of_every_device() -> None:
    b, state = routed()
    chains = Recorder()
    result = simulate(b.view(), state, "vm1", tcp(VM1, RMAC, "192.0.2.10"), chains)
    assert result.outputs[0].port_id == "r:out"
    assert chains.calls == [("pre", "br", "vm1"), ("post", "br", "br:up"),
                            ("pre", "r", "r:in"), ("post", "r", "r:out")]


def test_a_filter_drop_drops() -> None:
    b, state = routed()
    result = simulate(b.view(), state, "vm1", tcp(VM1, RMAC, "192.0.2.10"),
                      Recorder(drop_out="r:out"))
    assert_dropped(result)


def test_a_filter_rewrite_routes_the_new_destination_and_shows_in_the_output() -> None:
    b, state = routed()
    result = simulate(b.view(), state, "vm1", tcp(VM1, RMAC, "192.0.2.10"),
                      Recorder(rewrite_dst="192.0.2.20"))
    assert result.outputs == [Output("r:out", (
        Rewrite("dec_ttl"), Rewrite("set", "eth_src", "02:aa:00:00:00:02"),
        Rewrite("set", "eth_dst", VM2), Rewrite("set", "ipv4_dst", "192.0.2.20")))]
    assert "chain-dnat" in result.tags and "arp:r:192.0.2.20" in result.tags
    assert "ipv4_dst" in result.fields_read  # read by the chain before it rewrote it


def test_rewrites_cover_vlan_push_and_pop() -> None:
    original = tcp(VM1, VM2)
    assert rewrites(original, Frame(original).set(vlan_vid=7)) == (
        Rewrite("push_vlan"), Rewrite("set", "vlan_vid", 7))
    tagged = original.replace(vlan_vid=7)
    assert rewrites(tagged, Frame(tagged).set(vlan_vid=None)) == (Rewrite("pop_vlan"),)
    # a written field is set even to the value it had: flows from this decision do not
    # match it, and other packets they take may carry another value
    assert rewrites(original, Frame(original).set(eth_dst=VM2)) == (
        Rewrite("set", "eth_dst", VM2),)


def test_trace_of_a_routed_packet() -> None:
    b, state = routed()
    result = simulate(b.view(), state, "vm1", tcp(VM1, RMAC, "192.0.2.10"))
    assert outline(result) == [
        (1, "bridge br (br) in at port vm1"),
        (1, f"learned {VM1} behind port vm1"),
        (1, f"{RMAC} is router port r:in: to port br:up"),
        (2, "router r (r) in at port r:in"),
        (2, "route r/route:3: Normal 192.0.2.0/24"),
        (2, f"next hop 192.0.2.10 is at {OUT}: out of port r:out"),
        (2, "out of port r:out"),
        (0, "result: r:out"),
    ]
    assert [s.device for s in result.steps] == ["br"] * 3 + ["r"] * 4 + [None]
    assert result.trace == render(result.steps)
