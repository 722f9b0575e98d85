"""Several fake switches joined by an underlay, for tests that follow packets across hosts.

Each host has a :class:`~.fakeswitch.FakeSwitch`, an underlay address, the OpenFlow number of
its tunnel port and, optionally, an agent: a function that answers a packet-in with the
messages the real agent would send (they reach the switch through :func:`ofmsgs.send_all`,
and what their packet-outs send is followed like any other packet).

A packet output on a tunnel port with ``tunnel_id`` and ``tun_ipv4_dst`` set arrives at the
host with that underlay address, on its tunnel port, with ``tunnel_id`` and the tunnel's
addresses as metadata. What leaves any other port is a :class:`Delivery`, with the headers a
receiver sees (no metadata).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ryu_midonet.datapath.fakepacket import METADATA, Headers
from ryu_midonet.datapath.fakeswitch import FakeSwitch, Forwarded, PacketIn
from ryu_midonet.datapath.flows import Message
from ryu_midonet.datapath.ofcheck import NotUnderstood

Agent = Callable[[PacketIn], list[Message]]
MAX_KEY = 0xFFFFFF  # a VXLAN network identifier has 24 bits
MAX_HOPS = 8


@dataclass(frozen=True)
class Delivery:
    """A packet that left ``host`` out of ``port``, with these headers."""

    host: str
    port: int
    headers: Headers


@dataclass
class FakeHost:
    """One host of the network: its switch, underlay address, tunnel port and agent."""

    name: str
    underlay_ip: str
    tunnel_port: int
    switch: FakeSwitch
    agent: Agent | None = None


class FakeNetwork:
    """Hosts by name; :meth:`send` says where a packet entering one of them comes out."""

    def __init__(self) -> None:
        self.hosts: dict[str, FakeHost] = {}

    def add_host(self, name: str, underlay_ip: str, tunnel_port: int,
                 agent: Agent | None = None) -> FakeHost:
        host = FakeHost(name, underlay_ip, tunnel_port, FakeSwitch(len(self.hosts) + 1), agent)
        self.hosts[name] = host
        return host

    def send(self, host: str, in_port: int, headers: Headers) -> list[Delivery]:
        """Every delivery of a packet entering ``host`` at ``in_port``, on any host."""
        return self._inject(self.hosts[host], {**headers, "in_port": in_port}, 0)

    def is_output(self, host: str, in_port: int, headers: Headers, to_host: str,
                  to_port: int, **expected: object) -> bool:
        """Whether the packet comes out of ``to_host`` at ``to_port`` with ``expected``
        header values (a value of None: without that header)."""
        return any(d.host == to_host and d.port == to_port
                   and all(d.headers.get(k) == v for k, v in expected.items())
                   for d in self.send(host, in_port, headers))

    def _inject(self, host: FakeHost, headers: Headers, hops: int) -> list[Delivery]:
        return self._follow(host, host.switch.process(headers), hops)

    def _follow(self, host: FakeHost, done: Forwarded, hops: int) -> list[Delivery]:
        out: list[Delivery] = []
        for port, headers in done.outputs:
            if port == host.tunnel_port:
                out += self._tunnel(host, headers, hops)
            else:
                out.append(Delivery(host.name, port, _seen_by_receiver(headers)))
        for packet_in in done.packet_ins:
            out += self._to_agent(host, packet_in, hops)
        return out

    def _to_agent(self, host: FakeHost, packet_in: PacketIn, hops: int) -> list[Delivery]:
        if host.agent is None:
            return []
        sent = len(host.switch.packet_outs)
        host.switch.apply(host.agent(packet_in))
        out: list[Delivery] = []
        for done in host.switch.packet_outs[sent:]:
            out += self._follow(host, done, hops)
        return out

    def _tunnel(self, host: FakeHost, headers: Headers, hops: int) -> list[Delivery]:
        key, dst = headers.get("tunnel_id"), headers.get("tun_ipv4_dst")
        if key is None or dst is None or not 0 <= key <= MAX_KEY:
            raise NotUnderstood(f"tunnel output with key {key} to {dst}")
        if hops >= MAX_HOPS:
            raise RuntimeError(f"a packet went through {hops} tunnels: a loop")
        remote = next((h for h in self.hosts.values() if h.underlay_ip == dst), None)
        if remote is None:
            return []  # no such host on the underlay
        arrived = {**_seen_by_receiver(headers), "in_port": remote.tunnel_port,
                   "tunnel_id": key, "tun_ipv4_src": host.underlay_ip, "tun_ipv4_dst": dst}
        return self._inject(remote, arrived, hops + 1)


def _seen_by_receiver(headers: Headers) -> Headers:
    return {k: v for k, v in headers.items() if k not in METADATA}
