"""The load-balancer section of the benchmark: turns in ABBA order, the ratios of its table,
and the OVN load balancer it configures."""

from __future__ import annotations

from collections.abc import Callable

from ryu_midonet.bench import lb, ovn_nb, turns
from ryu_midonet.bench.turns import Turns


def test_turns_alternate_in_abba_order_and_a_failed_take_loses_its_round_for_all() -> None:
    calls: list[str] = []
    values = {"a": [1.0, 2.0, 3.0], "b": [10.0, None, 30.0], "c": [5.0, 6.0, 7.0]}
    lists: dict[str, list[float]] = {k: [] for k in values}

    def take(key: str) -> Callable[[], float | None]:
        def run() -> float | None:
            calls.append(key)
            return values[key][sum(c == key for c in calls) - 1]
        return run

    turns.alternate(3, [(take(k), lists[k]) for k in values])
    assert calls == ["a", "b", "c", "c", "b", "a", "a", "b", "c"]
    assert lists == {"a": [1.0, 3.0], "b": [10.0, 30.0], "c": [5.0, 7.0]}


def _result() -> lb.Result:
    vip = Turns(lb.VIP2.label, lb.CONN_RATE, ours=[400.0, 300.0], peer=[800.0, 500.0])
    direct = Turns(lb.DIRECT.label, lb.CONN_RATE, ours=[800.0, 600.0], peer=[1000.0, 500.0])
    first = Turns(lb.VIP2.label, lb.FIRST, ours=[4.0, 6.0], peer=[2.0, 2.0])
    streams = [Turns(lb.VIP1.label, lb.THROUGHPUT, ours=[1.0, 1.2], peer=[2.0, 2.0]),
               Turns(lb.DIRECT.label, lb.THROUGHPUT, ours=[2.0, 2.0], peer=[2.0, 2.5])]
    return lb.Result(rows=[vip, direct], first=[first], streams=streams)


def test_a_vips_rate_is_compared_with_the_routed_rate_of_the_same_round() -> None:
    rows = _result().rows
    assert lb.vip_over_routed(rows, lb.VIP2.label, "ours") == [0.5, 0.5]
    assert lb.vip_over_routed(rows, lb.VIP2.label, "peer") == [0.8, 1.0]
    assert lb.vip_over_routed(rows, lb.VIP8.label, "ours") == []


def test_the_table_gives_medians_ratios_and_the_vip_over_routed_line() -> None:
    lines = lb.table(_result()).splitlines()
    vip = next(line for line in lines if line.startswith("VIP, 2 members  "))
    assert "350" in vip and "650" in vip and "0.55x" in vip and "0.50 0.60" in vip
    over = next(line for line in lines if line.startswith("VIP, 2 members / routed"))
    assert "0.50x" in over and "0.90x" in over and "0.50 0.50 | 0.80 1.00" in over
    first = next(line for line in lines if lb.FIRST in line)
    assert "2.50x" in first
    stream = next(line for line in lines if line.startswith("VIP, m2 only / routed"))
    assert "Gbit/s over routed" in stream and "0.55x" in stream and "0.90x" in stream


def test_an_unmeasured_section_says_why() -> None:
    assert "not measured: OVN unavailable" in lb.table(lb.Result(reason="OVN unavailable"))


def test_ovn_balances_each_vip_on_the_clients_switch() -> None:
    cmds = ovn_nb.load_balancer("lb-vip-2", "10.0.3.2", 5001, ["10.0.2.21", "10.0.2.22"],
                                "net1")
    assert cmds == [["lb-add", "lb-vip-2", "10.0.3.2:5001", "10.0.2.21:5001,10.0.2.22:5001",
                     "tcp"], ["ls-lb-add", "net1", "lb-vip-2"]]


def test_the_members_are_on_both_hosts_and_the_routed_case_is_a_member() -> None:
    assert {lb._plan(m).host for m in lb.VIP2.members} == {"h1", "h2"}
    assert [lb._plan(m).host for m in lb.VIP8.members].count("h2") == 4
    assert not lb.DIRECT.vip and all(case.vip for case in lb.BALANCED)
    assert lb.VIP1.members == lb.DIRECT.members  # throughput: the same member both ways
