"""The example feature app logs port plugs, unplugs and the plugged ports."""

from __future__ import annotations

import logging

import pytest

from ryu_midonet.agent import features
from ryu_midonet.agent.features import AgentContext
from ryu_midonet.apps.portlog import PortLog, PortLogApp


def test_logs_plugs_unplugs_and_the_plugged_ports(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ryu_midonet.apps.portlog")
    ofports = {"vm2": 4, "vm1": 3}
    feature = PortLog()
    feature.start(AgentContext("host-1", None, None, ofports))
    assert feature.port_flows("vm1", 3, True) == []
    assert feature.port_flows("vm9", 7, False) == []
    assert feature.periodic() == []
    assert caplog.messages == [
        "logging the ports of host host-1",
        "port vm1 plugged as OpenFlow port 3",
        "port vm9 unplugged from OpenFlow port 7",
        "2 ports plugged on host host-1; vm1 at 3; vm2 at 4",
    ]


def test_the_app_registers_its_feature_with_the_agent() -> None:
    app = PortLogApp()
    try:
        assert app.feature in features.REGISTRY.features
        assert isinstance(app.feature, features.Feature)
    finally:
        features.REGISTRY.features.remove(app.feature)
