"""Packet-ins wait in one bounded queue per port and are served one port at a time: a port
sending many delays another's packet by at most one packet; what waits stays bounded."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from fakeclock import Clock

from ryu_midonet.agent.features import Features
from ryu_midonet.agent.missqueue import MissQueue
from ryu_midonet.agent.sender import Sender
from ryu_midonet.apps.agent import AgentApp
from ryu_midonet.datapath import packets
from ryu_midonet.datapath.flows import Message
from ryu_midonet.nsdb import errors
from ryu_midonet.sim.core.model import Packet

FLOODER, QUIET, OTHER = 1, 2, 3


def drain(queue: MissQueue) -> list[tuple[int, bytes]]:
    taken = []
    while (miss := queue.get(timeout=0)) is not None:
        taken.append((miss.in_port, miss.data))
    return taken


def test_a_port_with_many_packets_waiting_delays_another_by_one_packet(clock: Clock) -> None:
    queue = MissQueue(per_port=1000, clock=clock)
    for n in range(500):
        queue.put(FLOODER, b"f%d" % n)
    queue.put(QUIET, b"q")
    served = drain(queue)
    assert served.index((QUIET, b"q")) == 1  # after the one flooder packet ahead of it
    assert [data for port, data in served if port == FLOODER] == [b"f%d" % n
                                                                   for n in range(500)]


def test_ports_take_turns_one_packet_each(clock: Clock) -> None:
    queue = MissQueue(clock=clock)
    for n in range(3):
        queue.put(FLOODER, b"f%d" % n)
        queue.put(QUIET, b"q%d" % n)
    queue.put(OTHER, b"o0")
    assert [port for port, _ in drain(queue)] == [FLOODER, QUIET, OTHER, FLOODER, QUIET,
                                                  FLOODER, QUIET]


def test_a_full_port_queue_drops_and_counts_and_leaves_other_ports_alone(
        clock: Clock) -> None:
    queue = MissQueue(per_port=4, clock=clock)
    accepted = [queue.put(FLOODER, b"f") for _ in range(10)]
    assert accepted == [True] * 4 + [False] * 6
    assert queue.put(QUIET, b"q")
    assert len(queue) == 5  # bounded: per_port for each port
    assert queue.take_drops() == {FLOODER: 6}
    assert queue.take_drops() == {}
    assert len(drain(queue)) == 5


def test_a_packet_that_waited_too_long_is_dropped_when_its_turn_comes(clock: Clock) -> None:
    queue = MissQueue(max_wait=2.0, clock=clock)
    queue.put(FLOODER, b"old")
    clock.now += 1.5
    queue.put(QUIET, b"fresh")
    clock.now += 1.0  # "old" waited 2.5 s, "fresh" 1 s
    assert drain(queue) == [(QUIET, b"fresh")]
    assert queue.take_drops() == {FLOODER: 1}


def test_an_unplugged_port_s_packets_are_forgotten(clock: Clock) -> None:
    queue = MissQueue(clock=clock)
    queue.put(FLOODER, b"f")
    queue.put(QUIET, b"q")
    queue.forget(FLOODER)
    queue.forget(OTHER)  # nothing waits from it: nothing happens
    assert drain(queue) == [(QUIET, b"q")]


def test_the_worker_waits_for_a_packet() -> None:
    queue = MissQueue()
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(queue.get(timeout=30)))
    worker.start()
    queue.put(QUIET, b"q")
    worker.join()
    assert [(m.in_port, m.data) for m in got] == [(QUIET, b"q")]  # type: ignore[attr-defined]
    assert queue.get(timeout=0.01) is None


def test_a_queue_must_hold_something() -> None:
    with pytest.raises(ValueError):
        MissQueue(per_port=0)


# -- the agent's side: its os-ken handler only queues, its worker serves -------------------
class _Bindings:
    ofports = {"flooder": FLOODER, "quiet": QUIET}

    def port_at(self, ofport: int) -> str | None:
        return next((p for p, n in self.ofports.items() if n == ofport), None)


class _Handler:
    def __init__(self, fail: BaseException | None = None) -> None:
        self.handled: list[str] = []
        self.fail = fail

    def handle(self, port_id: str, in_port: int, packet: object, data: bytes) -> list[Message]:
        self.handled.append(port_id)
        if self.fail is not None:
            raise self.fail
        return []


def _agent(handler: _Handler) -> AgentApp:
    app = AgentApp.__new__(AgentApp)
    app.features = Features()
    app.sender = Sender()
    app.bindings = _Bindings()  # type: ignore[assignment]
    app.handler = handler  # type: ignore[assignment]
    app.cache = SimpleNamespace(connected=True)  # type: ignore[assignment]
    app.misses = MissQueue()
    return app


def _packet_in(app: AgentApp, in_port: int) -> None:
    msg = SimpleNamespace(match={"in_port": in_port}, data=packets.build(ARP_REQUEST))
    app.packet_in(SimpleNamespace(msg=msg))


ARP_REQUEST = Packet(eth_src="02:00:00:00:00:01", eth_dst="ff:ff:ff:ff:ff:ff", eth_type=0x0806,
                     arp_op=1, arp_spa="10.0.0.1", arp_tpa="10.0.0.2",
                     arp_sha="02:00:00:00:00:01", arp_tha="00:00:00:00:00:00")


def test_the_agent_s_packet_in_handler_only_queues_and_its_worker_serves_ports_in_turn(
) -> None:
    handler = _Handler()
    app = _agent(handler)
    for _ in range(3):
        _packet_in(app, FLOODER)
    _packet_in(app, QUIET)
    assert handler.handled == [] and len(app.misses) == 4
    while app.serve_miss():
        pass
    assert handler.handled == ["flooder", "quiet", "flooder", "flooder"]


def test_a_store_outage_or_a_fault_drops_the_packet_and_the_worker_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    for fail in (errors.StoreUnavailable("down"), RuntimeError("bug")):
        handler = _Handler(fail)
        app = _agent(handler)
        _packet_in(app, QUIET)
        _packet_in(app, FLOODER)
        assert app.serve_miss() and app.serve_miss() and not app.serve_miss()
        assert handler.handled == ["quiet", "flooder"]
    assert "handling a packet-in from OpenFlow port" in caplog.text  # the fault, not the outage
