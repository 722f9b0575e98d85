"""The agent's sending place: with contract checks on, a flow breaking its table's contract
is logged and left out; the rest of the batch is sent."""

from __future__ import annotations

import pytest

from ryu_midonet.agent.sender import Sender
from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath import translator as tr
from ryu_midonet.datapath.fakeswitch import FakeSwitch
from ryu_midonet.datapath.flows import FlowSpec, Message, output, set_field

# a tunnel-delivery flow may only output: this one also rewrites a header
BAD = FlowSpec(p.TABLE_TUNNEL_DELIVERY, p.PRIORITY_PORT, {"tunnel_id": 5},
               (set_field("eth_dst", "02:00:00:00:00:05"), output(5)), cookie=0x99)


def connected(check: bool) -> tuple[Sender, FakeSwitch]:
    switch = FakeSwitch()
    sender = Sender(check=check)
    sender.dp = switch.datapath
    return sender, switch


def test_a_flow_breaking_its_contract_is_left_out_and_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    sender, switch = connected(check=True)
    good = tr.port_flows(1, 1)
    sender.send([*good, BAD])
    assert {e.cookie for e in switch.flows} == {f.cookie for f in good}
    assert sender.refused == 1
    assert "tunnel-delivery" in caplog.text and "sets eth_dst" in caplog.text


def test_without_checks_the_switch_gets_it() -> None:
    sender, _ = connected(check=False)
    with pytest.raises(p.FlowRefused):  # the fake switch checks contracts too
        sender.send([BAD])


def test_flows_keeping_their_contracts_all_go(caplog: pytest.LogCaptureFixture) -> None:
    sender, switch = connected(check=True)
    messages: list[Message] = [*tr.base_flows([100]), *tr.port_flows(1, 1),
                               *tr.port_flows(2, 2)]
    sender.send(messages)
    assert len(switch.flows) == len(messages)
    assert sender.refused == 0


def test_nothing_is_sent_without_a_switch() -> None:
    sender = Sender(check=True)
    sender.send([BAD])  # dropped quietly: no datapath to check against or send to
    assert sender.refused == 0
