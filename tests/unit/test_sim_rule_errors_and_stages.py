"""Unknown rule types are errors; NAT and conntrack steps name their stage; a router's own
addresses come from a snapshot built once per topology version.

The topology is :mod:`sim_tenant`'s: two VMs on a bridge behind router ``r`` with an uplink.
"""

from __future__ import annotations

import logging

import pytest
from sim_tenant import FAR, GW_IP, REMOTE, RIN, ROUT, VM1, tcp, tenant, tenant_state

from ryu_midonet.builders.chains import chain, rule
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.stages import Stage
from ryu_midonet.sim.devices import router
from tests.support.matchers import assert_dropped, assert_step, has_step
from tests.support.packets import icmp

OUT = tcp(VM1, RIN, "10.0.0.11", REMOTE, 40000, 443)


def test_an_unknown_rule_type_drops_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    b = tenant()
    odd = rule(b, b.objects["chain"]["pre"], "accept")
    odd["type"] = "teleport"  # a type a newer store might hold
    rule(b, b.objects["chain"]["pre"], "accept")
    with caplog.at_level(logging.ERROR, logger="ryu_midonet.sim"):
        result = simulate(b.view(), tenant_state(), "vm1", OUT)
    assert_dropped(result)
    step = assert_step(result, "unknown rule type", rule=odd["id"], stage=Stage.PRE, device="r")
    assert "error" in step.decision
    assert odd["id"] in result.tags  # fixing the rule removes the cached drop
    assert any("teleport" in r.getMessage() and r.levelno == logging.ERROR
               for r in caplog.records)


def test_nat_and_conntrack_steps_carry_their_stage() -> None:
    b, state = tenant(), tenant_state()
    snat = rule(b, b.objects["chain"]["post"], "snat", outPorts=["r:out"],
                natTargets=[f"{GW_IP}:1-65535"])
    rev = rule(b, b.objects["chain"]["pre"], "rev_snat", nwDstAddress=GW_IP, inPorts=["r:out"])
    for port_id in ("vm1", "r:out"):  # both ask whether a packet returns a connection
        asks = chain(b, f"{port_id}-in")
        rule(b, asks, "accept", matchReturnFlow=True)
        b.objects["port"][port_id]["inboundFilterId"] = asks["id"]

    out = simulate(b.view(), state, "vm1", OUT)
    assert_step(out, "connection tracking:", stage=Stage.PORT_IN, device="br")
    assert_step(out, "snat: src 10.0.0.11", stage=Stage.POST, rule=snat["id"])
    assert_step(out, "connection tracking: recorded", stage=Stage.PORT_OUT, port="r:out")
    port = next(r.value for r in out.outputs[0].rewrites if r.field == "tcp_src")

    back = simulate(b.view(), state, "r:out", tcp(FAR, ROUT, REMOTE, GW_IP, 443, port))
    assert_step(back, "connection tracking:", stage=Stage.PORT_IN)
    assert_step(back, "rev_snat: dst", stage=Stage.PRE, rule=rev["id"])
    assert not has_step(back, "snat", stage=Stage.FORWARD)


def test_own_addresses_snapshot_is_built_once_per_topology_version(
        monkeypatch: pytest.MonkeyPatch) -> None:
    b, state = tenant(), tenant_state()
    builds: list[str] = []
    real = router.RouterPorts.build

    def counting(view: object, router_id: str) -> router.RouterPorts:
        builds.append(router_id)
        return real(view, router_id)  # type: ignore[arg-type]

    monkeypatch.setattr(router.RouterPorts, "build", counting)
    view = b.view()
    ping = icmp(VM1, RIN, "10.0.0.11", "198.51.100.1")
    for _ in range(3):
        assert has_step(simulate(view, state, "vm1", ping), "echo request to 198.51.100.1")
    assert builds == ["r"]

    b.objects["port"]["r:out"]["portAddress"] = "198.51.100.9"
    view = b.view()  # a new topology version
    assert not has_step(simulate(view, state, "vm1", ping), "echo request")
    assert builds == ["r", "r"]
