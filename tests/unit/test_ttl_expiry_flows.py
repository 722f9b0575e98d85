"""TTL expiry on a flow's path: flows carry every router's dec_ttl, and the packet a later
dec_ttl hands the agent is restored to the packet that entered the flow."""

from __future__ import annotations

from ryu_midonet.datapath import ctlookup as ctl
from ryu_midonet.datapath import packets
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.sim.core.model import Output, Result, Rewrite, RewriteOp
from ryu_midonet.sim.core.packets import checksum
from tests.support.packets import arp, icmp

DEC = Rewrite(RewriteOp.DEC_TTL)
SET_MAC = Rewrite(RewriteOp.SET, "eth_dst", "02:00:00:00:01:0a")


def _actions(result: Result) -> list[str]:
    flow = tr.flow_for(result, icmp("02:00:00:00:00:0a", "02:00:00:00:00:01", "10.0.0.10",
                                    "10.0.1.10"), 1, lambda _: tr.Local(2), cookie=7)
    assert flow is not None
    return [str(a) for a in flow.actions]


def test_each_later_dec_ttl_says_how_many_came_before() -> None:
    result = Result(outputs=[Output("vm1", (DEC, DEC, DEC, SET_MAC))], ttl_decrements=3)
    assert _actions(result) == [
        "dec_ttl", f"set_field:1->{p.TTL_REG}", "dec_ttl", f"set_field:2->{p.TTL_REG}",
        "dec_ttl", "set_field:02:00:00:00:01:0a->eth_dst", "output:2"]


def test_a_flow_through_one_router_needs_no_register() -> None:
    result = Result(outputs=[Output("vm1", (DEC, SET_MAC))], ttl_decrements=1)
    assert _actions(result) == ["dec_ttl", "set_field:02:00:00:00:01:0a->eth_dst", "output:2"]


def test_a_flow_that_routes_and_then_drops_still_decrements() -> None:
    assert _actions(Result(ttl_decrements=2)) == [
        "dec_ttl", f"set_field:1->{p.TTL_REG}", "dec_ttl"]
    assert _actions(Result()) == []


def _frame(ttl: int, vlan: int | None = None) -> bytes:
    return packets.build(icmp("02:00:00:00:00:0a", "02:00:00:00:00:01", "10.0.0.10",
                              "10.0.1.10", ttl=ttl, vlan_vid=vlan))


def _header_ok(data: bytes, at: int) -> bool:
    return checksum(data[at:at + 20]) == 0


def test_the_agent_adds_the_spent_decrements_back() -> None:
    for vlan, at in ((None, 14), (10, 18)):
        restored = tr.ttl_restored(_frame(1, vlan), 2)
        parsed = packets.parse(restored)
        assert parsed is not None and parsed.nw_ttl == 3
        assert _header_ok(restored, at)
        assert restored == _frame(3, vlan)


def test_frames_it_cannot_restore_are_left_as_they_are() -> None:
    frame = _frame(1)
    assert tr.ttl_restored(frame, 0) == frame
    assert tr.ttl_restored(frame[:20], 3) == frame[:20]
    assert tr.ttl_restored(b"", 3) == b""
    request = packets.build(arp(1, "02:00:00:00:00:0a", "10.0.0.10", "10.0.0.1"))
    assert tr.ttl_restored(request, 3) == request
    assert tr.ttl_restored(_frame(255), 5)[14 + 8] == 255  # no wrap-around


def test_a_reply_routed_and_then_dropped_after_the_tracker_still_decrements() -> None:
    reply = icmp("02:00:00:00:00:0a", "02:00:00:00:00:01", "192.0.2.9", "10.0.1.10")
    flow = tr.nat_return_flow(Result(ttl_decrements=2), reply, 1, "198.51.100.1",
                              lambda _: tr.Local(2), cookie=7)
    assert flow is not None
    assert [str(a) for a in flow.actions] == ["dec_ttl", f"set_field:1->{p.TTL_REG}", "dec_ttl"]


def test_a_packet_routed_and_then_dropped_after_the_ct_lookup_still_decrements() -> None:
    packet = icmp("02:00:00:00:00:0a", "02:00:00:00:00:01", "10.0.0.10", "10.0.1.10")
    flow = ctl.answered_flow(Result(ttl_decrements=2, ct_scope="r", ct_return=False), packet,
                             1, lambda _: tr.Local(2), cookie=7)
    assert flow is not None and flow.table == p.TABLE_CT_LOOKUP
    assert [str(a) for a in flow.actions] == ["dec_ttl", f"set_field:1->{p.TTL_REG}", "dec_ttl"]
    routed = Result(outputs=[Output("vm1", (DEC, SET_MAC))], ttl_decrements=1, ct_scope="r",
                    ct_return=True)
    flow = ctl.answered_flow(routed, packet, 1, lambda _: tr.Local(2), cookie=7)
    assert flow is not None
    assert [str(a) for a in flow.actions] == [
        "dec_ttl", "set_field:02:00:00:00:01:0a->eth_dst", "output:2"]
