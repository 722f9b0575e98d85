"""midonet-cli's networking-sfc commands: port pairs, groups, classifiers and chains.

The installed console script against a real API process on a real redis-server: a chain
through a firewall group of two instances and a header-unaware IDS, built, listed, changed
and taken down; bad input is refused naming the attribute, and what is in use cannot go.
"""

from __future__ import annotations

import pytest
from cli_guide_helpers import Cli, Seed

pytestmark = pytest.mark.integration


def test_a_chain_built_listed_changed_and_removed(cli: Cli, seed: Seed) -> None:
    bridge = seed.bridge("net")
    for _ in range(7):
        seed.bridge_port(bridge)
    steps = [
        ("sfc port-pair add ingress bridge0:port1 egress bridge0:port2 correlation mpls",
         ["pp0"]),
        ("sfc port-pair add name fw2 ingress bridge0:port3 egress bridge0:port4 "
         "correlation mpls weight 2", ["pp1"]),
        ("sfc port-pair add name ids ingress bridge0:port5 egress bridge0:port5", ["pp2"]),
        ("sfc port-pair list", [
            "port-pair pp0 ingress bridge0:port1 egress bridge0:port2 correlation mpls "
            "weight 1",
            "port-pair pp1 name fw2 ingress bridge0:port3 egress bridge0:port4 correlation "
            "mpls weight 2",
            "port-pair pp2 name ids ingress bridge0:port5 egress bridge0:port5 correlation "
            "none weight 1"]),
        ("sfc port-pair-group add name fw pairs pp0,pp1 lb-fields ip_src,tcp_dst", ["ppg0"]),
        ("sfc port-pair-group add pairs pp2", ["ppg1"]),
        ("sfc flow-classifier add protocol tcp dst-port 80 src-prefix 10.0.0.0/24 "
         "logical-source-port bridge0:port0 logical-destination-port bridge0:port6", ["fc0"]),
        ("sfc port-chain add groups ppg0,ppg1 classifiers fc0 symmetric true", ["pc0"]),
        ("sfc port-pair-group list", [
            "port-pair-group ppg0 name fw pairs pp0,pp1 lb-fields ip_src,tcp_dst group-id 1",
            "port-pair-group ppg1 pairs pp2 group-id 2"]),
        ("flow-classifier fc0 show", [
            "flow-classifier fc0 ethertype IPv4 protocol tcp src-prefix 10.0.0.0/24 "
            "dst-port 80 logical-source-port bridge0:port0 logical-destination-port "
            "bridge0:port6"]),
        ("sfc port-chain list", ["port-chain pc0 groups ppg0,ppg1 classifiers fc0 "
                                 "correlation mpls symmetric true chain-id 1"]),
        ("port-chain pc0 set groups ppg1,ppg0 name web", []),
        ("port-chain pc0 show groups", ["ppg1,ppg0"]),
        ("port-chain pc0 clear classifiers", []),
        ("sfc port-chain list", ["port-chain pc0 name web groups ppg1,ppg0 correlation mpls "
                                 "symmetric true chain-id 1"]),
        ("sfc port-chain pc0 delete", []),
        ("port-pair-group ppg1 delete", []),
        ("port-pair pp2 delete", []),
        ("sfc port-chain list", []),
        ("sfc port-pair list", [
            "port-pair pp0 ingress bridge0:port1 egress bridge0:port2 correlation mpls "
            "weight 1",
            "port-pair pp1 name fw2 ingress bridge0:port3 egress bridge0:port4 correlation "
            "mpls weight 2"]),
    ]
    outputs, err, rc = cli.session([command for command, _ in steps])
    assert (err, rc) == ("", 0)
    assert outputs == [out for _, out in steps]


def test_bad_input_and_objects_in_use(cli: Cli, seed: Seed) -> None:
    net, other = seed.bridge("net"), seed.bridge("other")
    for _ in range(3):
        seed.bridge_port(net)
    seed.bridge_port(other)
    assert cli.ok("port-pair add ingress bridge0:port1 egress bridge0:port2") == ["pp0"]
    assert cli.ok("port-pair-group add pairs pp0") == ["ppg0"]
    assert cli.ok("port-chain add groups ppg0") == ["pc0"]
    for command, attr in [
            ("port-pair add ingress bridge0:port1 egress bridge1:port0", "egress"),
            ("port-pair add ingress bridge0:port1 egress bridge0:port2 correlation vlan",
             "correlation"),
            ("port-pair-group add pairs pp0", "pairs"),  # in a group already
            ("port-pair-group add pairs pp0 lb-fields ip_tos", "lb-fields"),
            ("flow-classifier add logical-source-port bridge0:port0 src-prefix 10.0.0.1/24",
             "src-prefix"),
            ("flow-classifier add logical-source-port bridge0:port0 protocol tcp "
             "dst-port 90-80", "dst-port"),
            ("flow-classifier add logical-source-port bridge0:port0 protocol sctp",
             "protocol"),
            ("flow-classifier add protocol tcp", "logical-source-port"),
            ("port-chain add groups ppg0", "groups"),  # in a chain already
            ("port-chain add groups ppg0 correlation vlan", "correlation")]:
        assert attr in cli.fails(command), command
    assert "in use" in cli.fails("port-pair pp0 delete") or \
        "used by" in cli.fails("port-pair pp0 delete")
    assert "used by" in cli.fails("port-pair-group ppg0 delete")
    assert cli.ok("sfc port-chain list") == ["port-chain pc0 groups ppg0 correlation mpls "
                                             "symmetric false chain-id 1"]
