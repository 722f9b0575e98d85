"""The probe state machine: INACTIVE after maxRetries failures in a row, ACTIVE after one
success; a prober's rounds write changes, and keep those the store did not take."""

from __future__ import annotations

import socket
from collections.abc import Mapping

from ryu_midonet.healthmon.pools import Monitored
from ryu_midonet.healthmon.prober import Prober
from ryu_midonet.healthmon.probes import ACTIVE, INACTIVE, PoolHealth, Target, tcp_connect_all


def test_a_member_turns_inactive_after_max_retries_failures_in_a_row() -> None:
    health = PoolHealth(3)
    health.track({"m1": ACTIVE})
    assert health.record("m1", False) is None
    assert health.record("m1", False) is None
    assert health.record("m1", False) == INACTIVE
    assert health.record("m1", False) is None


def test_a_success_resets_the_count_and_one_success_brings_it_back() -> None:
    health = PoolHealth(2)
    health.track({"m1": ACTIVE})
    health.record("m1", False)
    assert health.record("m1", True) is None
    assert health.record("m1", False) is None
    assert health.record("m1", False) == INACTIVE
    assert health.record("m1", True) == ACTIVE


def test_members_start_from_their_stored_status_and_unknown_ones_are_ignored() -> None:
    health = PoolHealth(5)
    health.track({"m1": INACTIVE, "m2": ACTIVE})
    assert health.record("m1", False) is None  # no flap when another host took over
    assert health.record("m1", True) == ACTIVE
    assert health.record("gone", True) is None
    health.track({"m2": ACTIVE})
    assert health.statuses() == {"m2": ACTIVE}


def settings(members: Mapping[str, str], retries: int = 2) -> Monitored:
    return Monitored("pool1", "router1", 1.0, 1.0, retries,
                     {m: Target("10.0.0.1", 80) for m in members}, dict(members))


class Scripted:
    def __init__(self) -> None:
        self.up: set[str] = set()

    def __call__(self, targets: Mapping[str, Target], timeout: float) -> dict[str, bool]:
        return {m: m in self.up for m in targets}


def test_prober_rounds_write_changes_and_retry_what_was_not_written() -> None:
    probe = Scripted()
    probe.up = {"m1", "m2"}
    written: list[dict[str, str]] = []
    accept = [True]

    def write(changes: Mapping[str, str]) -> bool:
        written.append(dict(changes))
        return accept[0]

    prober = Prober(settings({"m1": ACTIVE, "m2": ACTIVE}), write, probe=probe)
    assert prober.round() == {}
    assert written == []
    probe.up = {"m1"}
    prober.round()
    accept[0] = False
    assert prober.round() == {"m2": INACTIVE}
    accept[0] = True
    assert prober.round() == {}
    assert written[-1] == {"m2": INACTIVE}  # handed over again
    probe.up = {"m1", "m2"}
    assert prober.round() == {"m2": ACTIVE}
    assert written[-1] == {"m2": ACTIVE}


def test_prober_follows_new_members_and_settings() -> None:
    probe = Scripted()
    prober = Prober(settings({"m1": ACTIVE}, retries=5), lambda c: True, probe=probe)
    prober.update(settings({"m1": ACTIVE, "m3": ACTIVE}, retries=1))
    assert prober.round() == {"m1": INACTIVE, "m3": INACTIVE}


def test_tcp_connect_probes_tell_a_listening_port_from_a_closed_one() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: refused
    try:
        got = tcp_connect_all({"up": Target("127.0.0.1", server.getsockname()[1]),
                               "down": Target("127.0.0.1", closed.getsockname()[1])}, 2.0)
    finally:
        server.close()
        closed.close()
    assert got == {"up": True, "down": False}


def test_an_address_that_cannot_be_connected_to_is_a_failed_probe() -> None:
    assert tcp_connect_all({"port": Target("127.0.0.1", 70000)}, 0.5) == {"port": False}
