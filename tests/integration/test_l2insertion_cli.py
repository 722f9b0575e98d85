"""midonet-cli's ``l2insertion`` commands: the Operations Guide's session as written (two
service functions on bridge1 protecting one MAC on bridge0's port0), then show and delete.

The installed console script against a real API process on a real redis-server.
"""

from __future__ import annotations

import pytest
from cli_guide_helpers import Cli, Seed

pytestmark = pytest.mark.integration

GUIDE = [
    "l2insertion add fail-open true mac fa:16:3e:a4:dd:58 port bridge0:port0 pos 0 "
    "srv-port bridge1:port0 vlan 10",
    "l2insertion add fail-open true mac fa:16:3e:a4:dd:58 port bridge0:port0 pos 1 "
    "srv-port bridge1:port1 vlan 20",
    "l2insertion list",
]
LISTED = [
    "l2insertion l2insertion0 port bridge0:port0 srv-port bridge1:port0 vlan 10 pos 0 "
    "fail-open true mac fa:16:3e:a4:dd:58",
    "l2insertion l2insertion1 port bridge0:port0 srv-port bridge1:port1 vlan 20 pos 1 "
    "fail-open true mac fa:16:3e:a4:dd:58",
]


def _bridges(seed: Seed) -> None:
    seed.bridge_port(seed.bridge("bridge0"))
    bridge1 = seed.bridge("bridge1")
    seed.bridge_port(bridge1)
    seed.bridge_port(bridge1)


def test_the_guides_session(cli: Cli, seed: Seed) -> None:
    _bridges(seed)
    outputs, err, rc = cli.session(["bridge list", "bridge bridge0 port list",
                                    "bridge bridge1 port list", *GUIDE])
    assert (err, rc) == ("", 0)
    assert outputs[3:] == [["l2insertion0"], ["l2insertion1"], LISTED]


def test_show_set_and_delete(cli: Cli, seed: Seed) -> None:
    _bridges(seed)
    outputs, err, rc = cli.session([
        "bridge list", "bridge bridge0 port list", "bridge bridge1 port list", *GUIDE,
        "l2insertion l2insertion1 set pos 0 fail-open false", "l2insertion l2insertion1 show",
        "l2insertion l2insertion0 show", "l2insertion l2insertion1 delete", "l2insertion list"])
    assert (err, rc) == ("", 0)
    assert outputs[6:] == [
        [], ["l2insertion l2insertion1 port bridge0:port0 srv-port bridge1:port1 vlan 20 pos 0 "
             "fail-open false mac fa:16:3e:a4:dd:58"],
        [LISTED[0].replace("pos 0", "pos 1")], [], [LISTED[0]]]


def test_refused_input_names_the_attribute(cli: Cli, seed: Seed) -> None:
    _bridges(seed)
    err = cli.fails("l2insertion add mac fa:16:3e:a4:dd:58 port bridge0:port0 "
                    "srv-port bridge0:port0")
    assert "srv-port" in err or "srvPortId" in err, err
    assert "vlan" in cli.fails("l2insertion add mac fa:16:3e:a4:dd:58 port bridge0:port0 "
                               "srv-port bridge1:port0 vlan 5000")
    assert cli.ok("l2insertion list") == []
