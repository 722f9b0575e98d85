"""The agent's packet-in capacity: new flows handled per second, cbench-style, on one core.

A stream of OpenFlow 1.3 packet-ins, each the first packet of a distinct flow (its own source
MAC, IP and UDP port), half bridged between ports of one bridge and half routed from one
bridge to another through a router, is handed to the agent's handler the way the agent does:
os-ken parses the packet-in, the frame is decoded, simulated (the source MAC learned), and the
flow-mod and packet-out are built and serialised by os-ken (:mod:`ryu_midonet.datapath.ofmsgs`,
with the barrier the agent sends after each batch). Nothing goes on a wire.

The same loop with an empty os-ken application (parse the packet-in, build and serialise one
packet-out) is the reference: ``ratio = ryu-midonet / empty app`` flows per second.

ryu-midonet is measured with its MAC/ARP tables in memory, with the agent's local copies of the
shared tables on a real redis-server (:class:`~ryu_midonet.statestore.LocalState`: lookups in
the process, learned entries written by a writer thread), and with a Redis round trip per
lookup and per learned entry (:func:`~ryu_midonet.statestore.redis_state`, for comparison).
The redis-server is private to the measurement, durable as the product's store is
(``appendfsync always``). Everything in this process runs on one CPU; the redis-server does
not.

``python -m ryu_midonet.bench --only capacity`` runs this section alone.
"""

from __future__ import annotations

import gc
import os
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from os_ken.ofproto import ofproto_parser
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from ryu_midonet.agent.flowindex import FlowIndex
from ryu_midonet.agent.handler import PacketHandler
from ryu_midonet.bench.section import run_alone
from ryu_midonet.builders.topology import TopologyBuilder
from ryu_midonet.datapath import ofmsgs, packets
from ryu_midonet.datapath.flows import PacketOut, output
from ryu_midonet.nsdb.store import Store
from ryu_midonet.sandbox import procs
from ryu_midonet.sandbox import store as servers
from ryu_midonet.sim.core.model import ETH_IPV4, IP_UDP, Packet
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.state import State
from ryu_midonet.statestore import LocalState, redis_state

HOST = "host-1"
FLOWS = 6_000  # distinct flows prepared; a round stops earlier once ``duration`` has passed
DURATION = 1.5  # seconds per configuration and round
ROUNDS = 3  # rounds, the configurations taking turns in each
PORTS = 4  # VM ports per bridge
ROUTER_MACS = ("02:aa:00:00:00:01", "02:aa:00:00:00:02")

EMPTY = "empty"
MEMORY = "memory"
LOCAL_COPY = "local-copy"
ROUND_TRIPS = "round-trips"
LABELS = {EMPTY: "empty os-ken app (parse, one packet-out)",
          MEMORY: "ryu-midonet, MAC/ARP tables in memory",
          LOCAL_COPY: "ryu-midonet, local copies of the Redis tables",
          ROUND_TRIPS: "ryu-midonet, a Redis round trip per lookup/learn"}


@dataclass
class Figure:
    key: str
    label: str
    flows_per_s: float | None  # the best round's (other load on the machine only lowers it)
    rounds: list[float] = field(default_factory=list)
    note: str = ""


@dataclass
class Capacity:
    """The figures of one run; ``ratio`` of each to the empty app's."""

    figures: list[Figure] = field(default_factory=list)
    cpu: int | None = None

    def find(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)

    def ratio(self, key: str) -> float | None:
        mine, empty = self.find(key), self.find(EMPTY)
        if mine is None or empty is None or not mine.flows_per_s or not empty.flows_per_s:
            return None
        return mine.flows_per_s / empty.flows_per_s

    def to_dict(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "figures": [asdict(f) | {"ratio_to_empty": self.ratio(f.key)}
                                             for f in self.figures]}


# -- the load ------------------------------------------------------------------------------
class _Datapath:
    """What os-ken's parser and :mod:`ofmsgs` need of a datapath; serialises what is sent."""

    ofproto = ofp
    ofproto_parser = parser
    id = 1

    def __init__(self) -> None:
        self.xid = 0
        self.sent_bytes = 0

    def send_msg(self, msg: Any) -> None:
        self.xid += 1
        msg.set_xid(self.xid)
        msg.serialize()
        self.sent_bytes += len(msg.buf)


def packet_in(in_port: int, frame: bytes, xid: int) -> bytes:
    """An OpenFlow 1.3 table-miss packet-in carrying ``frame``, as a switch sends it."""
    match = bytearray()
    parser.OFPMatch(in_port=in_port).serialize(match, 0)
    body = struct.pack(ofp.OFP_PACKET_IN_PACK_STR, ofp.OFP_NO_BUFFER, len(frame),
                       ofp.OFPR_NO_MATCH, 0, 0) + bytes(match) + b"\0\0" + frame
    return struct.pack(ofp.OFP_HEADER_PACK_STR, ofp.OFP_VERSION, ofp.OFPT_PACKET_IN,
                       ofp.OFP_HEADER_SIZE + len(body), xid) + body


def parse(dp: _Datapath, raw: bytes) -> Any:
    """os-ken's parse of one message, as its controller loop does."""
    version, msg_type, msg_len, xid = ofproto_parser.header(raw)
    return ofproto_parser.msg(dp, version, msg_type, msg_len, xid, raw)


def _mac(kind: int, n: int) -> str:
    return f"02:{kind:02x}:{(n >> 24) & 255:02x}:{(n >> 16) & 255:02x}:" \
           f"{(n >> 8) & 255:02x}:{n & 255:02x}"


@dataclass(frozen=True)
class Topology:
    view: DictView
    ofports: dict[str, int]  # port id -> OpenFlow port
    servers: dict[str, tuple[str, str]]  # port id -> (MAC, IP) of the host behind it
    bridges: dict[str, str]  # port id -> its bridge


def topology() -> Topology:
    """Two bridges of ``PORTS`` VM ports each on this host, joined by a router."""
    b = TopologyBuilder()
    router = b.router("router")
    ofports: dict[str, int] = {}
    hosts: dict[str, tuple[str, str]] = {}
    bridges: dict[str, str] = {}
    for i, name in enumerate(("net-a", "net-b")):
        bridge = b.bridge(name)
        rport = b.router_port(router, f"10.0.{i}.1/24", ROUTER_MACS[i], port_id=f"router-{i}")
        b.link(rport, b.bridge_port(bridge, host=None, port_id=f"{name}-uplink"))
        for n in range(PORTS):
            port = b.bridge_port(bridge, host=HOST, port_id=f"{name}-{n}")
            ofports[port["id"]] = 1 + 10 * i + n
            hosts[port["id"]] = (_mac(0xEE, 16 * i + n), f"10.0.{i}.{100 + n}")
            bridges[port["id"]] = name
    return Topology(b.view(), ofports, hosts, bridges)


def seed(state: State, topo: Topology) -> None:
    """The hosts the flows go to are known: their MACs learned, the router's ARP entries set."""
    for port_id, (mac, ip) in topo.servers.items():
        state.macs.learn(topo.bridges[port_id], mac, None, port_id)
        if topo.bridges[port_id] == "net-b":
            state.arps.put("router", ip, mac)


def load(topo: Topology, count: int = FLOWS) -> list[bytes]:
    """``count`` packet-ins, each the first packet of its own flow: even ones bridged on
    net-a, odd ones routed from net-a to net-b."""
    a_ports = [p for p in topo.ofports if topo.bridges[p] == "net-a"]
    b_ports = [p for p in topo.ofports if topo.bridges[p] == "net-b"]
    out = []
    for k in range(count):
        src_port = a_ports[k % PORTS]
        routed = k % 2 == 1
        dst_port = b_ports[k // 2 % PORTS] if routed else a_ports[(k + 1) % PORTS]
        dst_mac, dst_ip = topo.servers[dst_port]
        pkt = Packet(eth_src=_mac(0x10, k), eth_dst=ROUTER_MACS[0] if routed else dst_mac,
                     eth_type=ETH_IPV4, ipv4_src=f"10.0.0.{2 + k % 90}", ipv4_dst=dst_ip,
                     ip_proto=IP_UDP, nw_ttl=64, udp_src=1024 + k % 60000, udp_dst=5001)
        out.append(packet_in(topo.ofports[src_port], packets.build(pkt), k + 1))
    return out


# -- the loops -----------------------------------------------------------------------------
Handle = Callable[[bytes], None]


def empty_app(dp: _Datapath) -> Handle:
    """A controller app that parses each packet-in and answers with one packet-out."""

    def handle(raw: bytes) -> None:
        msg = parse(dp, raw)
        pkt_out = ofmsgs.to_ofp(dp, PacketOut(msg.data, (output(2),), msg.match["in_port"]))
        dp.send_msg(pkt_out)

    return handle


def agent(dp: _Datapath, topo: Topology, state: State) -> Handle:
    """The agent's handling of a packet-in (:meth:`~ryu_midonet.apps.agent.AgentApp.
    handle_miss`), then sending its messages as the agent's sender does."""
    ports = {n: p for p, n in topo.ofports.items()}
    handler = PacketHandler(topo.view, state, FlowIndex(), HOST, topo.ofports, {})

    def handle(raw: bytes) -> None:
        msg = parse(dp, raw)
        in_port = msg.match["in_port"]
        port_id = ports.get(in_port)
        pkt = packets.parse(msg.data)
        if port_id is None or pkt is None:
            return
        ofmsgs.send_all(dp, handler.handle(port_id, in_port, pkt, msg.data))

    return handle


def run(handle: Handle, load: list[bytes], duration: float) -> float:
    """Packet-ins handled per second until ``duration`` passed or the load ran out."""
    gc.collect()
    done = 0
    start = time.perf_counter()
    for raw in load:
        handle(raw)
        done += 1
        if done % 64 == 0 and time.perf_counter() - start >= duration:
            break
    return done / (time.perf_counter() - start)


@contextmanager
def one_cpu() -> Iterator[int | None]:
    """This process (and the threads it starts meanwhile) on one CPU."""
    try:
        before = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        yield None
        return
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


@contextmanager
def private_redis(work: Path) -> Iterator[str]:
    """A durable redis-server of the measurement's own; yields its URL."""
    server = servers.Server("redis", work, _free_port())
    servers.write(server, servers.server_conf(server, [servers.LOCALHOST]))
    _, rec = servers.start(server)
    try:
        yield f"redis://{servers.LOCALHOST}:{server.port}/0"
    finally:
        procs.stop_all([rec])


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((servers.LOCALHOST, 0))
        return int(sock.getsockname()[1])


def measure(work: Path, duration: float = DURATION, rounds: int = ROUNDS, flows: int = FLOWS,
            log: Callable[[str], None] = print) -> Capacity:
    """Every configuration in turn, ``rounds`` times (each time on fresh tables); a figure is
    its best round. One whose set-up fails gets a figure of None, with why."""
    topo = topology()
    stream = load(topo, flows)
    result = Capacity()
    samples: dict[str, list[float]] = {key: [] for key in LABELS}
    notes: dict[str, str] = {}
    failed: set[str] = set()
    with ExitStack() as stack:
        url: str | None = None
        try:
            url = stack.enter_context(private_redis(work / "redis"))
        except Exception as exc:  # noqa: BLE001 - the other figures stand without it
            notes[LOCAL_COPY] = notes[ROUND_TRIPS] = f"no redis-server: {exc}"
            failed |= {LOCAL_COPY, ROUND_TRIPS}
        result.cpu = stack.enter_context(one_cpu())
        for n in range(rounds):
            log(f"capacity: round {n + 1} of {rounds}")
            for key in LABELS:
                if key in failed:
                    continue
                try:
                    samples[key].append(_round(key, url, topo, stream, duration, notes))
                except Exception as exc:  # noqa: BLE001 - a figure of None says why
                    notes[key] = f"failed: {exc}"
                    failed.add(key)
    for key, label in LABELS.items():
        rates = samples[key]
        result.figures.append(Figure(key, label, max(rates) if rates else None,
                                     [round(r, 1) for r in rates], notes.get(key, "")))
    return result


def _round(key: str, url: str | None, topo: Topology, stream: list[bytes], duration: float,
           notes: dict[str, str]) -> float:
    """One measurement of configuration ``key`` on fresh tables: flows per second."""
    if key == EMPTY:
        return run(empty_app(_Datapath()), stream, duration)
    if key == MEMORY:
        state = State.in_memory()
        seed(state, topo)
        return run(agent(_Datapath(), topo, state), stream, duration)
    assert url is not None
    store = Store.from_url(url)
    store.redis.flushall()
    local = LocalState(store) if key == LOCAL_COPY else None
    try:
        state = local.state if local is not None else redis_state(store)
        seed(state, topo)
        if local is not None:
            local.wait_written(30)
        rate = run(agent(_Datapath(), topo, state), stream, duration)
        if local is not None:
            written = local.wait_written(30)
            writes = local.macs.writer.written + local.arps.writer.written
            dropped = local.macs.writer.dropped + local.arps.writer.dropped
            notes[key] = (f"last round: {writes} entries written by the writer thread, "
                          f"{dropped} dropped" + ("" if written else ", some still queued"))
        return rate
    finally:
        if local is not None:
            local.close()
        store.redis.close()


# -- the table -----------------------------------------------------------------------------
def table(result: Capacity) -> str:
    from ryu_midonet.bench.report import fmt, fmt_ratio

    header = ["agent packet-in capacity", "flows/s", "ratio to empty app"]
    body = [[f.label, fmt(f.flows_per_s), fmt_ratio(result.ratio(f.key))]
            for f in result.figures]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(3)]
    lines = []
    for row in [header, ["-" * w for w in widths], *body]:
        lines.append("  ".join([row[0].ljust(widths[0]), row[1].rjust(widths[1]),
                                row[2].rjust(widths[2])]).rstrip())
    cpu = f"CPU {result.cpu}" if result.cpu is not None else "one CPU (affinity not set)"
    lines.append("")
    lines.append(f"each packet-in the first packet of a distinct flow (half bridged, half "
                 f"routed), parsed and answered by os-ken's serialiser, in this process on "
                 f"{cpu}; best of {len(result.figures[0].rounds)} rounds, the "
                 "configurations taking turns; ratio = configuration / empty app, same run.")
    for f in result.figures:
        if f.note:
            lines.append(f"* {f.label}: {f.note}")
    return "\n".join(lines)


def main() -> int:
    """Run the section alone: ``python -m ryu_midonet.bench.capacity``."""
    return run_alone("capacity-", measure, table, lambda result: bool(result.find(MEMORY)))


if __name__ == "__main__":
    raise SystemExit(main())
