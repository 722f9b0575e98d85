"""The OVN peer of the benchmark: its ovn-nbctl commands, its chassis settings, and that it
reports itself unavailable (never fails) where OVN is not installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ryu_midonet.bench import layout, nat, ovn_daemons, ovn_nb
from ryu_midonet.bench.cli import parse_args, scenarios
from ryu_midonet.bench.ovn import OvnScenario


def _calls(cmds: list[list[str]], verb: str) -> list[list[str]]:
    return [c[1:] for c in cmds if c[0] == verb]


def test_topology_gives_every_vm_a_port_named_after_it_with_its_addresses() -> None:
    cmds = ovn_nb.topology()
    assert _calls(cmds, "ls-add") == [["net1"], ["net2"]]
    addresses = dict((c[0], c[1]) for c in _calls(cmds, "lsp-set-addresses"))
    for vm in layout.VMS:
        assert addresses[vm.name] == f"{vm.mac} {vm.ip}"
    assert ["net1", "vm1"] in _calls(cmds, "lsp-add")
    assert ["net2", "vm4"] in _calls(cmds, "lsp-add")


def test_topology_links_router_r_to_each_switch_at_the_gateway_address() -> None:
    cmds = ovn_nb.topology()
    assert _calls(cmds, "lr-add") == [["r"]]
    assert _calls(cmds, "lrp-add") == [["r", "r-net1", "02:00:00:00:ff:01", "10.0.1.1/24"],
                                       ["r", "r-net2", "02:00:00:00:ff:02", "10.0.2.1/24"]]
    assert ["net1-r", "router-port=r-net1"] in _calls(cmds, "lsp-set-options")
    assert ["net2-r", "router"] in _calls(cmds, "lsp-set-type")
    # every gateway the VMs use is a router port address
    gateways = {c[3].split("/")[0] for c in _calls(cmds, "lrp-add")}
    assert {vm.gateway for vm in layout.VMS} == gateways


def test_transaction_separates_commands_with_double_dashes() -> None:
    assert ovn_nb.transaction([["ls-add", "a"], ["ls-add", "b"], ["lr-add", "r"]]) == [
        "ls-add", "a", "--", "ls-add", "b", "--", "lr-add", "r"]
    assert ovn_nb.transaction([]) == []


def test_floating_ip_puts_the_gateway_port_on_vm1s_side_and_host() -> None:
    assert ovn_nb.gateway(nat.FIP) == ("10.0.1", "h1")
    cmds = ovn_nb.configure(nat.FIP, "chassis-h1")
    assert cmds == [["lrp-set-gateway-chassis", "r-net1", "chassis-h1", "10"],
                    ["lr-nat-add", "r", "dnat_and_snat", nat.FIP.nat_address, "10.0.2.14"]]
    assert ovn_nb.unconfigure(nat.FIP, "chassis-h1") == [
        ["--if-exists", "lr-nat-del", "r", "dnat_and_snat", nat.FIP.nat_address],
        ["lrp-del-gateway-chassis", "r-net1", "chassis-h1"]]


def test_snat_masquerades_vm1s_subnet_at_a_gateway_port_on_vm4s_host() -> None:
    assert ovn_nb.gateway(nat.SNAT) == ("10.0.2", "h2")
    cmds = ovn_nb.configure(nat.SNAT, "chassis-h2")
    assert cmds[0] == ["lrp-set-gateway-chassis", "r-net2", "chassis-h2", "10"]
    assert cmds[1] == ["lr-nat-add", "r", "snat", nat.SNAT.nat_address, "10.0.1.0/24"]


def test_change_is_a_discard_route_for_the_destination_and_its_removal() -> None:
    assert ovn_nb.block(layout.ROUTED_CROSS) == ["lr-route-add", "r", "10.0.2.14/32", "discard"]
    assert ovn_nb.unblock(layout.ROUTED_CROSS) == ["lr-route-del", "r", "10.0.2.14/32"]


def test_chassis_settings_point_at_the_sb_socket_and_geneve_on_the_underlay() -> None:
    settings = ovn_nb.chassis_settings("unix:/run/x/sb.sock", "10.99.0.1", "br-int")
    assert "external_ids:ovn-remote=unix:/run/x/sb.sock" in settings
    assert "external_ids:ovn-encap-type=geneve" in settings
    assert "external_ids:ovn-encap-ip=10.99.0.1" in settings
    assert "external_ids:ovn-bridge-datapath-type=netdev" in settings


def test_ovn_runs_the_same_cases_as_ryu_midonet_and_the_nat_cases_it_has() -> None:
    scenario = OvnScenario()
    assert scenario.cases == layout.CASES
    assert set(scenario.configured_cases) <= set(nat.CASES)
    assert {c.kind for c in scenario.configured_cases} == {nat.FLOATING, nat.MASQUERADE}
    assert "no controller" in scenario.clear_note


def test_ovn_is_a_controller_of_the_command_line_and_can_run_alone() -> None:
    assert [s.key for s in scenarios(parse_args([]))] == [
        "ryu-midonet", "faucet", "ovs-normal", "ovn"]
    assert [s.key for s in scenarios(parse_args(["--only", "ovn"]))] == ["ovn"]


def test_missing_ovn_programs_make_it_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    reason = OvnScenario().unavailable()
    assert reason is not None and "ovn-central" in reason and "ovn-northd" in reason


def test_leftover_daemons_are_stopped_only_when_they_name_the_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "ovn"
    work.mkdir()
    (work / "ovn-northd.pid").write_text("1\n")  # PID 1 never names this directory
    (work / "broken.pid").write_text("not a pid\n")
    stopped: list[list[int]] = []
    monkeypatch.setattr(ovn_daemons.procs, "stop_pids", lambda pids: stopped.append(pids))
    ovn_daemons.Ovn(work).stop_leftovers()
    assert stopped == []
