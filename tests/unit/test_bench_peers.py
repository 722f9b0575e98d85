"""Every peer in one report: an OVN column beside faucet's and NORMAL's, the NAT cases
compared with OVN as well as with ryu-midonet's own baseline, and what each first-packet
figure includes."""

from __future__ import annotations

import subprocess
from typing import Any

from ryu_midonet.bench import measure
from ryu_midonet.bench.midonet import reactive_cookies
from ryu_midonet.bench.report import (
    MISSING,
    NOT_APPLICABLE,
    CaseInfo,
    Controller,
    Measurement,
    Report,
    baseline_header,
    baseline_rows,
    rows,
    table,
)

FP, RATE = "first_packet_rtt", "tcp_connection_rate"


def _report() -> Report:
    rm = Controller("ryu-midonet", "ryu-midonet", notes=["first packet: includes the agent"],
                    planned={"l2": [FP], "routed": [RATE], "fip": [RATE], "snat": [RATE]})
    faucet = Controller("faucet", "faucet", planned={"l2": [FP]})
    normal = Controller("ovs-normal", "OVS NORMAL", planned={"l2": [FP]})
    ovn = Controller("ovn", "OVN", version="23.03.1", notes=["first packet: no controller"],
                     planned={"l2": [FP], "routed": [RATE], "fip": [RATE], "snat": [RATE]})
    cases = [CaseInfo("l2", "L2"), CaseInfo("routed", "routed"),
             CaseInfo("fip", "floating IP", baseline="routed"),
             CaseInfo("snat", "SNAT", baseline="routed")]
    report = Report(cases, [rm, faucet, normal, ovn])
    for controller, case, key, value, note in [
            ("ryu-midonet", "l2", FP, 4.5, "2.00 packets per sample went to the controller"),
            ("faucet", "l2", FP, 0.34, ""), ("ovs-normal", "l2", FP, 0.3, ""),
            ("ovn", "l2", FP, 0.45, ""),
            ("ryu-midonet", "routed", RATE, 1000.0, ""), ("ovn", "routed", RATE, 2000.0, ""),
            ("ryu-midonet", "fip", RATE, 700.0, ""), ("ovn", "fip", RATE, 1400.0, ""),
            ("ryu-midonet", "snat", RATE, 500.0, "")]:
        report.add(Measurement(controller, case, key, value, note=note))
    report.add(Measurement("ovn", "snat", RATE, None, note="gateway never came up"))
    return report


def test_ovn_gets_a_column_and_a_ratio_like_every_peer() -> None:
    report = _report()
    text = table(report)
    assert "ryu-midonet/OVN" in text and "ryu-midonet/faucet" in text
    by_key = {(r[0], r[1]): r for r in rows(report)}
    first = by_key[("L2", "first-packet RTT, median (ms)")]
    # ryu-midonet, then value and ratio for faucet, OVS NORMAL, OVN
    assert first[3:] == ["4.50", "0.340", "13.24x", "0.300", "15.00x", "0.450", "10.00x"]
    routed = by_key[("routed", "new TCP connections (conn/s)")]
    assert routed[3:] == ["1000", NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE,
                          NOT_APPLICABLE, "2000", "0.50x"]


def test_nat_cases_are_compared_with_the_peer_that_has_them() -> None:
    report = _report()
    header = baseline_header(report)
    assert header[-2:] == ["OVN", "ryu-midonet/OVN"]
    assert "faucet" not in header
    by_case = {r[0]: r for r in baseline_rows(report)}
    assert by_case["floating IP"][3:] == ["700", "routed", "1000", "0.70x", "1400", "0.50x"]
    assert by_case["SNAT"][3:] == ["500", "routed", "1000", "0.50x", MISSING, MISSING]
    ratios = {(r.case, r.peer): r.ratio for r in report.ratios()}
    assert ratios[("fip", "ovn")] == 0.5
    text = table(report)
    assert "the same case on OVN" in text
    assert "* OVN, SNAT, new TCP connections: failed: gateway never came up" in text


def test_without_a_nat_peer_the_baseline_table_says_so() -> None:
    report = _report()
    report.controllers = report.controllers[:3]
    report.measurements = [m for m in report.measurements if m.controller != "ovn"]
    assert baseline_header(report)[-1] == "ratio"
    assert "(no peer here does NAT)" in table(report)


def test_the_report_says_what_every_first_packet_figure_includes() -> None:
    text = table(_report())
    assert "never consults a controller" in text
    assert "dpctl/del-flows" in text
    assert "* OVN 23.03.1: first packet: no controller" in text
    assert "* ryu-midonet: first packet: includes the agent" in text
    assert ("* ryu-midonet, L2, first-packet RTT, median: 2.00 packets per sample went to "
            "the controller") in text


DUMP = """\
 cookie=0x200000000000007, duration=1.2s, table=3, n_packets=1, n_bytes=98, idle_timeout=60, \
priority=100,ip,in_port=2,nw_dst=10.0.1.13 actions=output:3
 cookie=0x200000000000008, duration=9.0s, table=3, n_packets=5, n_bytes=490, \
priority=100,in_port=2,dl_dst=02:00:00:00:01:13 actions=output:3
 cookie=0x200000000000007, duration=1.2s, table=3, n_packets=0, n_bytes=0, idle_timeout=60, \
priority=100,arp,in_port=2 actions=output:3
"""


def test_only_flows_installed_on_a_miss_are_cleared() -> None:
    # the flow without an idle timeout is proactive: it stays, as the peers' flows do
    assert reactive_cookies(DUMP) == ["0x200000000000007"]
    assert reactive_cookies("") == []


class _Vm:
    """Answers every ping after ``rtt`` ms; each echo sends ``up`` packets to the agent."""

    name, ip = "vm1", "10.0.1.11"

    def __init__(self, counter: list[int], up: int) -> None:
        self.counter, self.up = counter, up

    def exec(self, cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.counter[0] += self.up
        return subprocess.CompletedProcess(cmd, 0, "64 bytes from x: time=4.20 ms\n", "")


def test_first_packet_note_counts_the_packets_sent_to_the_controller() -> None:
    counter, cleared = [0], []
    vm: Any = _Vm(counter, up=2)
    result = measure.first_packet_rtt(vm, vm, lambda: cleared.append(1), 3,
                                      upcalls=lambda: counter[0])
    assert result.value == 4.2 and len(cleared) == 3
    assert result.note == "2.00 packets per sample went to the controller"
    without = measure.first_packet_rtt(vm, vm, lambda: None, 2)
    assert without.note == ""


def test_a_peer_run_alone_still_shows_its_nat_figures() -> None:
    report = _report()
    report.controllers = [c for c in report.controllers if c.key == "ovn"]
    report.measurements = [m for m in report.measurements if m.controller == "ovn"]
    by_case = {r[0]: r for r in baseline_rows(report)}
    assert by_case["floating IP"][3:] == [NOT_APPLICABLE, "routed", NOT_APPLICABLE, MISSING,
                                          "1400", MISSING]
