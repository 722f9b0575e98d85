"""Filter verdicts as types (redirect and mirror included) and the structured trace."""

from __future__ import annotations

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.context import Context, Filtered, Frame
from ryu_midonet.sim.core.model import IP_TCP, Output
from ryu_midonet.sim.core.stages import Stage
from ryu_midonet.sim.core.verdicts import ACCEPT, Mirror, Redirect, Verdict
from ryu_midonet.sim.state import State
from ryu_midonet.types import Obj
from tests.support.matchers import assert_dropped, last_step
from tests.support.packets import tcp
from tests.support.topology import MemoryTopology

VM1, VM2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
PACKET = tcp(VM1, VM2, "10.0.0.1", "10.0.0.2", 1234, 80)


class Inbound:
    """Filters that give one verdict on the way in and accept on the way out."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict

    def pre(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> Filtered:
        return Filtered(self.verdict, frame)

    def post(self, ctx: Context, device: Obj, out_port: Obj, frame: Frame) -> Filtered:
        return Filtered(ACCEPT, frame)


def bridge() -> tuple[MemoryTopology, State]:
    b = MemoryTopology()
    br = b.bridge("br")
    for name in ("vm1", "vm2", "tap"):
        b.bridge_port(br, port_id=name)
    state = State.in_memory()
    state.macs.learn("br", VM2, None, "vm2")
    return b, state


def test_a_redirect_sends_the_packet_out_of_its_port_only() -> None:
    b, state = bridge()
    result = simulate(b.view(), state, "vm1", PACKET, Inbound(Redirect("tap")))
    assert result.outputs == [Output("tap")]


def test_a_mirror_sends_a_copy_and_the_packet_goes_on() -> None:
    b, state = bridge()
    result = simulate(b.view(), state, "vm1", PACKET, Inbound(Mirror("tap")))
    assert result.outputs == [Output("tap"), Output("vm2")]


def test_a_redirect_to_a_missing_port_drops() -> None:
    b, state = bridge()
    result = simulate(b.view(), state, "vm1", PACKET, Inbound(Redirect("gone")))
    assert result.dropped and "gone" in result.tags


def test_trace_steps_name_stage_device_port_and_rule() -> None:
    b, state = bridge()
    inbound = b.chain("in")
    drop = b.rule(inbound, "drop", nwProto=IP_TCP)
    b.objects["port"]["vm1"]["inboundFilterId"] = "in"
    result = simulate(b.view(), state, "vm1", PACKET)
    assert_dropped(result)
    (step,) = [s for s in result.steps if s.rule is not None]
    assert (step.stage, step.device, step.port, step.rule) == (Stage.PORT_IN, "br", "vm1",
                                                                drop["id"])
    assert step.decision == f"chain in rule {drop['id']} (drop) matched: drop"
    assert result.steps[0].stage is Stage.PORT_IN and result.steps[0].device == "br"
    assert last_step(result).decision == "result: dropped"
