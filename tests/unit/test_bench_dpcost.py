"""The datapath counters a connection-rate measurement is divided by: parsing Open vSwitch's
listings, and the per-connection arithmetic."""

from __future__ import annotations

import pytest

from ryu_midonet.bench import dpcost, stats

PMD_STATS = """\
pmd thread numa_id 0 core_id 1:
  packets received: 20
  packet recirculations: 4
  avg. datapath passes per packet: 1.20
  miss with success upcall: 1
  miss with failed upcall: 0
main thread:
  packets received: 80
  packet recirculations: 40
  avg. datapath passes per packet: 1.50
  emc hits: 36
  megaflow hits: 80
  avg. subtable lookups per megaflow hit: 1.35
  miss with success upcall: 8
  miss with failed upcall: 2
  avg. packets per output batch: 1.00
"""

CONNTRACK = """\
tcp,orig=(src=10.0.1.11,dst=198.51.100.2,sport=40000,dport=5013),\
reply=(src=10.0.2.14,dst=198.51.100.2,sport=5013,dport=1024),zone=7,protoinfo=(state=TIME_WAIT)
tcp,orig=(src=10.0.1.11,dst=198.51.100.2,sport=40002,dport=5013),\
reply=(src=10.0.2.14,dst=198.51.100.2,sport=5013,dport=1026),zone=7,protoinfo=(state=TIME_WAIT)
tcp,orig=(src=10.0.1.11,dst=10.0.2.14,sport=40004,dport=5002),\
reply=(src=10.0.2.14,dst=10.0.1.11,sport=5002,dport=5013),zone=7,protoinfo=(state=TIME_WAIT)
icmp,orig=(src=10.0.1.11,dst=10.0.2.14,id=1,type=8,code=0),\
reply=(src=10.0.2.14,dst=10.0.1.11,id=1,type=0,code=0),zone=7
"""


def test_pmd_counters_are_summed_over_threads_and_averages_left_out() -> None:
    totals = dpcost.pmd_totals(PMD_STATS)
    assert totals["packets received"] == 100
    assert totals["packet recirculations"] == 44
    assert totals["miss with success upcall"] == 9
    assert totals["miss with failed upcall"] == 2
    assert "avg. datapath passes per packet" not in totals


def test_conntrack_entries_count_the_original_direction_to_the_port() -> None:
    assert dpcost.conntrack_entries(CONNTRACK, 5013) == 2  # not the reply's port
    assert dpcost.conntrack_entries(CONNTRACK, 5002) == 1
    assert dpcost.conntrack_entries("", 5013) == 0


def test_per_connection_costs() -> None:
    before = dpcost.Counters(passes=100, upcalls=3, ct_entries=5, cpu_ms=10.0)
    after = dpcost.Counters(passes=1600, upcalls=3, ct_entries=105, cpu_ms=130.0)
    spent = (after - before).per_connection(100)
    assert spent == {dpcost.PASSES: 15.0, dpcost.UPCALLS: 0.0, dpcost.CT_ENTRIES: 1.0,
                     dpcost.CPU: pytest.approx(1.2)}
    assert (after - before).per_connection(0) == {}
    # entries that expired meanwhile never make a negative count
    assert dpcost.Counters(ct_entries=-4).per_connection(2)[dpcost.CT_ENTRIES] == 0


def test_equal_zero_costs_compare_as_equal() -> None:
    assert stats.ratio(0.0, 0.0) == 1.0
    assert stats.ratio(1.0, 0.0) is None


def test_per_megabyte_costs() -> None:
    spent = dpcost.Counters(passes=3000, upcalls=1, ct_entries=0, cpu_ms=50.0)
    assert spent.per_megabyte(2_000_000) == {dpcost.PASSES_MB: 1500.0, dpcost.CPU_MB: 25.0}
    assert spent.per_megabyte(0) == {}
