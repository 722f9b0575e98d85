"""The benchmark's arithmetic and report: medians, ratios (to peers and to a baseline case),
per-connection counts, effect delays, table cells, JSON, the NAT cases' filler rules."""

from __future__ import annotations

import ipaddress
import json

import pytest

from ryu_midonet.bench import layout, measure, nat, stats
from ryu_midonet.bench.report import (
    MISSING,
    NOT_APPLICABLE,
    CaseInfo,
    Controller,
    Measurement,
    Report,
    baseline_rows,
    fmt,
    fmt_ratio,
    rows,
    table,
)


def _report() -> Report:
    rm = Controller("ryu-midonet", "ryu-midonet",
                    planned={"l2": ["first_packet_rtt", "throughput"], "routed": ["throughput"]})
    faucet = Controller("faucet", "faucet", planned={"l2": ["first_packet_rtt", "throughput"]})
    normal = Controller("ovs-normal", "OVS NORMAL", planned={"l2": ["first_packet_rtt"]})
    report = Report([CaseInfo("l2", "L2"), CaseInfo("routed", "routed")], [rm, faucet, normal])
    report.add(Measurement("ryu-midonet", "l2", "first_packet_rtt", 3.0, [2.0, 3.0, 4.0]))
    report.add(Measurement("ryu-midonet", "l2", "throughput", 0.5))
    report.add(Measurement("ryu-midonet", "routed", "throughput", 0.4))
    report.add(Measurement("faucet", "l2", "first_packet_rtt", 0.5))
    report.add(Measurement("faucet", "l2", "throughput", None, note="iperf3: boom"))
    report.add(Measurement("ovs-normal", "l2", "first_packet_rtt", 0.0))
    return report


def test_median_of_odd_and_even_counts_and_of_nothing() -> None:
    assert stats.median([3.0, 1.0, 2.0]) == 2.0
    assert stats.median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert stats.median([]) is None


def test_ratio_is_subject_over_peer_and_missing_when_undefined() -> None:
    assert stats.ratio(3.0, 0.5) == 6.0
    assert stats.ratio(0.5, 2.0) == 0.25
    assert stats.ratio(None, 1.0) is None
    assert stats.ratio(1.0, None) is None
    assert stats.ratio(1.0, 0.0) is None


def test_report_ratios_pair_the_same_case_and_measure_only() -> None:
    ratios = _report().ratios()
    assert [(r.case, r.metric, r.peer, r.ratio) for r in ratios] == [
        ("l2", "first_packet_rtt", "faucet", 6.0)]
    assert (ratios[0].subject_value, ratios[0].peer_value) == (3.0, 0.5)


def test_rows_tell_not_applicable_from_failed() -> None:
    body = rows(_report())
    by_key = {(r[0], r[1]): r for r in body}
    first = by_key[("L2", "first-packet RTT, median (ms)")]
    # ryu-midonet, faucet, ratio, NORMAL, ratio (a zero peer gives no ratio)
    assert first[2:] == ["lower", "3.00", "0.500", "6.00x", "0", MISSING]
    through = by_key[("L2", "iperf3 TCP throughput (Gbit/s)")]
    assert through[2:] == ["higher", "0.500", MISSING, MISSING, NOT_APPLICABLE, NOT_APPLICABLE]
    routed = by_key[("routed", "iperf3 TCP throughput (Gbit/s)")]
    assert routed[3:] == ["0.400", NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE,
                          NOT_APPLICABLE]
    # measures nobody planned or took get no row
    assert ("routed", "first-packet RTT, median (ms)") not in by_key


def test_planned_but_never_taken_is_missing_for_an_unavailable_peer() -> None:
    report = _report()
    report.controllers[1] = Controller("faucet", "faucet", available=False, reason="no venv",
                                       planned={"routed": ["throughput"]})
    report.measurements = [m for m in report.measurements if m.controller != "faucet"]
    routed = {(r[0], r[1]): r for r in rows(report)}[("routed",
                                                      "iperf3 TCP throughput (Gbit/s)")]
    assert routed[3:5] == ["0.400", MISSING]
    assert routed[5] == MISSING


def test_table_lists_unavailable_controllers_and_failures() -> None:
    report = _report()
    report.controllers[2].available = False
    report.controllers[2].reason = "switch exploded"
    text = table(report)
    assert "ryu-midonet/faucet" in text and "ryu-midonet/OVS NORMAL" in text
    assert "OVS NORMAL: unavailable: switch exploded" in text
    assert "faucet, L2, iperf3 TCP throughput: failed: iperf3: boom" in text


def test_json_document_round_trips() -> None:
    data = json.loads(json.dumps(_report().to_dict()))
    assert {m["key"]: m["better"] for m in data["metrics"]}["throughput"] == "higher"
    assert data["ratios"][0]["ratio"] == 6.0
    assert data["measurements"][0]["samples"] == [2.0, 3.0, 4.0]


@pytest.mark.parametrize(("value", "text"), [
    (None, MISSING), (0.0, "0"), (0.0123456, "0.0123"), (0.5, "0.500"), (3.14159, "3.14"),
    (42.42, "42.4"), (2295.8787, "2296"), (-1.5, "-1.50"),
])
def test_fmt_keeps_three_significant_digits(value: float | None, text: str) -> None:
    assert fmt(value) == text


def test_fmt_ratio() -> None:
    assert fmt_ratio(None) == MISSING
    assert fmt_ratio(7.096) == "7.10x"


# Probes every 10 ms from t=0; the change is made at t=1.0.
SENT = [i * 0.01 for i in range(300)]


def _answered(flip_at: int, before: bool) -> list[bool]:
    return [before if i < flip_at else not before for i in range(len(SENT))]


def test_effect_delay_when_traffic_stops() -> None:
    answered = _answered(flip_at=107, before=True)  # probe 107 (t=1.07) is the first lost
    delay = stats.effect_delay(SENT, answered, 1.0, 3.0, answered_after=False)
    assert delay == pytest.approx(0.07)


def test_effect_delay_when_traffic_comes_back() -> None:
    answered = _answered(flip_at=150, before=False)
    delay = stats.effect_delay(SENT, answered, 1.0, 3.0, answered_after=True)
    assert delay == pytest.approx(0.5)


def test_effect_delay_ignores_a_short_streak_and_probes_outside_the_window() -> None:
    answered = _answered(flip_at=160, before=True)
    for i in (50, 51, 120, 121, 122):  # a loss before the change, a short one after it
        answered[i] = False
    delay = stats.effect_delay(SENT, answered, 1.0, 3.0, answered_after=False, run=5)
    assert delay == pytest.approx(0.6)


def test_effect_delay_accepts_a_streak_cut_short_by_the_window_end() -> None:
    answered = _answered(flip_at=295, before=True)
    delay = stats.effect_delay(SENT, answered, 1.0, 3.0, answered_after=False, run=20)
    assert delay == pytest.approx(1.95)


def test_effect_delay_is_none_when_the_change_never_shows() -> None:
    answered = [True] * len(SENT)
    assert stats.effect_delay(SENT, answered, 1.0, 3.0, answered_after=False) is None
    assert stats.effect_delay(SENT, answered, 5.0, 6.0, answered_after=True) is None


def test_per_item_divides_and_is_missing_when_undefined() -> None:
    assert stats.per_item(30, 3) == 10.0
    assert stats.per_item(0, 5) == 0.0
    assert stats.per_item(None, 5) is None
    assert stats.per_item(7, 0) is None


def _nat_report() -> Report:
    rm = Controller("ryu-midonet", "ryu-midonet",
                    planned={"routed": ["tcp_connection_rate"], "fip": ["tcp_connection_rate"],
                             "snat": ["tcp_connection_rate"]})
    faucet = Controller("faucet", "faucet", planned={"routed": ["tcp_connection_rate"]})
    cases = [CaseInfo("routed", "routed"),
             CaseInfo("fip", "floating IP", baseline="routed", detail="DNAT and SNAT"),
             CaseInfo("snat", "SNAT", baseline="routed", detail="masquerade")]
    report = Report(cases, [rm, faucet])
    report.add(Measurement("ryu-midonet", "routed", "tcp_connection_rate", 800.0,
                           note="2400 connections, 0.00 per connection"))
    report.add(Measurement("faucet", "routed", "tcp_connection_rate", 400.0))
    report.add(Measurement("ryu-midonet", "fip", "tcp_connection_rate", 200.0,
                           note="600 connections, 9.50 per connection"))
    report.add(Measurement("ryu-midonet", "snat", "tcp_connection_rate", None,
                           note="no connection came through"))
    return report


def test_baseline_ratios_divide_by_the_subjects_own_baseline_figure() -> None:
    report = _nat_report()
    (only,) = report.baseline_ratios()
    assert (only.case, only.metric, only.baseline) == ("fip", "tcp_connection_rate", "routed")
    assert (only.value, only.baseline_value, only.ratio) == (200.0, 800.0, 0.25)
    # the peer ratio of the baseline case itself is unchanged; NAT cases have no peer ratio
    assert [(r.case, r.peer, r.ratio) for r in report.ratios()] == [("routed", "faucet", 2.0)]


def test_baseline_ratio_is_missing_without_a_baseline_figure() -> None:
    report = _nat_report()
    report.measurements = [m for m in report.measurements if m.case != "routed"]
    assert report.baseline_ratios() == []
    fip = {r[0]: r for r in baseline_rows(report)}["floating IP"]
    assert fip[3:] == ["200", "routed", MISSING, MISSING]


def test_baseline_cases_get_their_own_table_and_notes() -> None:
    report = _nat_report()
    assert [r[0] for r in rows(report)] == ["routed"]
    by_case = {r[0]: r for r in baseline_rows(report)}
    assert by_case["floating IP"] == ["floating IP", "new TCP connections (conn/s)", "higher",
                                      "200", "routed", "800", "0.25x"]
    assert by_case["SNAT"][3:] == [MISSING, "routed", "800", MISSING]
    text = table(report)
    assert "baseline case" in text
    assert "* floating IP: DNAT and SNAT" in text
    assert "* routed (baseline), new TCP connections: 2400 connections" in text
    assert "* floating IP, new TCP connections: 600 connections, 9.50 per connection" in text
    assert "* ryu-midonet, SNAT, new TCP connections: failed: no connection came through" in text


def test_baseline_table_is_left_out_when_no_case_has_a_baseline() -> None:
    assert "baseline case" not in table(_report())


def test_json_document_carries_the_baseline_ratios() -> None:
    data = json.loads(json.dumps(_nat_report().to_dict()))
    assert data["baseline_ratios"] == [{"case": "fip", "metric": "tcp_connection_rate",
                                        "baseline": "routed", "value": 200.0,
                                        "baseline_value": 800.0, "ratio": 0.25}]
    assert {c["key"]: c["baseline"] for c in data["cases"]}["snat"] == "routed"


def test_nat_filler_rules_never_match_an_address_of_the_benchmark() -> None:
    unused = [ipaddress.ip_network(p) for p in nat.UNUSED_PREFIXES]
    used = [ipaddress.ip_address(vm.ip) for vm in layout.VMS]
    used += [ipaddress.ip_address(vm.gateway) for vm in layout.VMS]
    used += [ipaddress.ip_address(c.nat_address) for c in nat.CASES]
    assert not [a for a in used if any(a in net for net in unused)]
    fillers = nat.filler_rules(nat.CHAIN_LENGTH - 1)
    assert len(fillers) == 99 and all(r["type"] == "drop" for r in fillers)
    for r in fillers:
        side = "Src" if "nwSrcAddress" in r else "Dst"
        net = ipaddress.ip_network(f"{r[f'nw{side}Address']}/{r[f'nw{side}Length']}")
        assert any(net.subnet_of(u) for u in unused), r


def test_nat_cases_have_addresses_and_server_ports_of_their_own() -> None:
    for field in ("nat_address", "port"):
        values = [getattr(c, field) for c in nat.CASES]
        assert len(set(values)) == len(values)
    assert not {c.port for c in nat.CASES} & {measure.TCP_PORT, measure.PEER_PORT}


def test_nat_chains_put_the_nat_rule_after_the_fillers() -> None:
    inbound, outbound = nat.chains(nat.FIP_CHAIN, "uplink")
    assert len(inbound) == nat.CHAIN_LENGTH and inbound[-1]["type"] == "dnat"
    assert [r["type"] for r in outbound] == ["snat"]
    inbound, outbound = nat.chains(nat.SNAT, "uplink")
    assert [r["type"] for r in inbound] == ["rev_snat"]
    assert outbound[0]["outPorts"] == ["uplink"]
    target = outbound[0]["natTargets"][0]
    assert (target["addressFrom"], target["portFrom"], target["portTo"]) == (
        nat.SNAT.nat_address, 1, 65535)
