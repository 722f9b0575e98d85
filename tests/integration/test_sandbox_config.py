"""The sandbox description: defaults, validation and the agent command template."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Any

import pytest

from ryu_midonet.sandbox import ConfigError, Sandbox, agent
from ryu_midonet.sandbox.config import DEFAULT_AGENT, AgentSpec, load, parse
from ryu_midonet.sandbox.underlay import phy_mac

REPO = Path(__file__).resolve().parents[2]


def minimal(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"hosts": [{"name": "h1"}, {"name": "h2"}],
                            "vms": [{"name": "vm1", "host": "h1", "ip": "10.0.0.11/24"}]}
    data.update(extra)
    return data


def test_the_example_file() -> None:
    spec = load(REPO / "etc/sandbox/two-hosts.yaml")
    assert spec.tunnel == "vxlan" and spec.agent is None and spec.api
    assert [str(h.underlay_ip) for h in spec.hosts] == ["10.99.0.1/24", "10.99.0.2/24"]
    vm1 = spec.vms[0]
    assert (vm1.name, vm1.host, vm1.interface, vm1.mac) == (
        "vm1", "h1", "rm-vm1-tap", "02:00:00:00:01:01")
    assert vm1.ip == ipaddress.IPv4Interface("10.0.0.11/24")
    assert vm1.gateway == ipaddress.IPv4Address("10.0.0.1")


def test_defaults() -> None:
    spec = parse(minimal())
    assert (spec.prefix, spec.tunnel, spec.vxlan_port, spec.bridge) == (
        "rm-", "vxlan", 6677, "br-int")
    assert spec.openflow_port == 6653 and spec.underlay_mtu == 9000 and spec.tunnel_port
    assert [str(h.underlay_ip) for h in spec.hosts] == ["10.99.0.1/24", "10.99.0.2/24"]
    assert spec.vms[0].interface == "rm-vm1-tap" and spec.vms[0].mtu == 1500
    assert spec.namespace("h1") == "rm-h1" and spec.namespace("underlay") == "rm-underlay"
    named = parse(minimal(name="demo", prefix="rmx-"))
    assert named.namespace("vm1") == "rmx-demo-vm1"


def test_explicit_and_generated_underlay_addresses() -> None:
    spec = parse(minimal(underlay={"cidr": "192.168.50.0/28"}, vms=[],
                         hosts=[{"name": "a"}, {"name": "b", "underlay_ip": "192.168.50.1"},
                                {"name": "c"}]))
    assert [str(h.underlay_ip) for h in spec.hosts] == [
        "192.168.50.2/28", "192.168.50.1/28", "192.168.50.3/28"]
    assert phy_mac(spec.hosts[0].underlay_ip) == "02:99:c0:a8:32:02"


@pytest.mark.parametrize("change, message", [
    ({"tunnel": "geneve"}, "tunnel must be one of"),
    ({"colour": "blue"}, "unknown key"),
    ({"hosts": []}, "non-empty list"),
    ({"hosts": [{"name": "h1"}, {"name": "h1"}]}, "must be unique"),
    ({"hosts": [{"name": "H1"}]}, "lower-case"),
    ({"hosts": [{"name": "underlay"}]}, "lower-case"),
    ({"hosts": [{"name": "h1", "underlay_ip": "10.98.0.1"}]}, "outside"),
    ({"hosts": [{"name": "h1", "underlay_ip": "10.99.0.1"},
                {"name": "h2", "underlay_ip": "10.99.0.1"}]}, "distinct underlay"),
    ({"vms": [{"name": "vm1", "host": "h9", "ip": "10.0.0.1/24"}]}, "unknown host"),
    ({"vms": [{"name": "vm1", "host": "h1", "ip": "10.0.0.1"}]}, "prefix length"),
    ({"vms": [{"name": "vm1", "host": "h1"}]}, "ip .* is required"),
    ({"vms": [{"name": "vm1", "host": "h1", "ip": "10.0.0.1/24",
               "interface": "a-very-long-name"}]}, "not a valid interface name"),
    ({"vms": [{"name": "vm1", "host": "h1", "ip": "10.0.0.1/24", "mac": "01:00:00:00:00:01"}]},
     "unicast"),
    ({"vms": [{"name": "h1", "host": "h1", "ip": "10.0.0.1/24"}]}, "must be unique"),
    ({"prefix": "rm"}, "ending with '-'"),
    ({"agent": 3}, "agent must be"),
    ({"api": "yes"}, "api must be"),
    ({"redis": {"sentinel": "yes"}}, "sentinel must be true or false"),
    ({"redis": {"sentinel": True, "service": "my master"}}, "redis service"),
    ({"redis": {"sentinel": True, "address": "10.98.0.9"}}, "not a host address of the"),
    ({"redis": {"sentinel": True, "address": "10.99.0.255"}}, "not a host address of the"),
    ({"redis": {"sentinel": True, "address": "10.99.0.2"}}, "underlay address of a host"),
    ({"redis": {"sentinel": True}, "name": "averylongname"}, "too long for the store"),
])
def test_invalid_descriptions(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(minimal(**change))


def test_redis_modes() -> None:
    single = parse(minimal())
    assert (single.redis_sentinel, single.store_address) == (False, None)
    spec = parse(minimal(name="sen", redis={"sentinel": True, "port": 7000}))
    assert spec.redis_sentinel and spec.redis_service == "sandbox" and spec.redis_port == 7000
    assert spec.store_address == ipaddress.IPv4Interface("10.99.0.254/24")
    assert spec.store_link == "rm-sen-st"
    small = parse(minimal(underlay={"cidr": "10.5.0.0/30"}, redis={"sentinel": True},
                          hosts=[{"name": "h1", "underlay_ip": "10.5.0.2"}]))
    assert small.store_address == ipaddress.IPv4Interface("10.5.0.1/30")
    given = parse(minimal(redis={"sentinel": True, "service": "mn", "address": "10.99.0.7"}))
    assert (given.redis_service, str(given.store_address)) == ("mn", "10.99.0.7/24")


def test_yaml_text_and_non_mapping() -> None:
    assert load("hosts:\n  - name: h1\n").hosts[0].name == "h1"
    with pytest.raises(ConfigError, match="mapping"):
        load("- a\n- b\n")


def test_agent_forms() -> None:
    assert parse(minimal(agent="none")).agent is None
    assert parse(minimal(agent="default")).agent == AgentSpec(DEFAULT_AGENT)
    assert parse(minimal(agent="my-agent {host}")).agent == AgentSpec("my-agent {host}")
    spec = parse(minimal(agent={"command": "default", "connect_timeout": 3}))
    assert spec.agent == AgentSpec(DEFAULT_AGENT, 3.0)


def test_agent_command_is_formatted_with_the_host_attributes(tmp_path: Path) -> None:
    sb = Sandbox.from_yaml(minimal(agent="default"), tmp_path)
    host = sb.host("h2")
    assert sb.spec.agent is not None
    argv = agent.command(sb.spec.agent, host, sb.redis_sock)
    assert argv == [
        f"{Path(sys.executable).parent}/ryu-midonet-manager",
        "--redis-url", f"unix://{tmp_path}/redis.sock?db=0", "--ofp-tcp-listen-port", "6653",
        "--host-id-file", f"{tmp_path}/hosts/h2/host_id", "--host-name", "h2",
        "--ovsdb-connection", f"unix:{tmp_path}/hosts/h2/db.sock",
        "--integration-bridge", "br-int", "--check-flow-contracts", "ryu_midonet.apps.agent",
        "ryu_midonet.apps.dhcp", "ryu_midonet.apps.bgp", "ryu_midonet.apps.health_monitor"]
    url = "redis+sentinel://10.99.0.254:1,10.99.0.254:2/sandbox/0"
    assert agent.command(sb.spec.agent, host, sb.redis_sock, url)[1:3] == ["--redis-url", url]
    with pytest.raises(RuntimeError, match="unknown field 'nope'"):
        agent.command(AgentSpec("x {nope}"), host, sb.redis_sock)


def test_host_ids_are_kept_or_generated() -> None:
    given = "6f0ad01c-1f2b-4c4e-9d3e-000000000001"
    sb = Sandbox.from_yaml(minimal(hosts=[{"name": "h1", "host_id": given}, {"name": "h2"}]))
    assert sb.host("h1").host_id == given
    assert len(sb.host("h2").host_id) == 36 and sb.host("h2").host_id != given
