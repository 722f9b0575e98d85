"""DHCP on the wire: a client's frame -> :class:`~ryu_midonet.sim.devices.dhcp.Request`, and
an :class:`~ryu_midonet.sim.devices.dhcp.Answer` -> the server's frame (os-ken's packet
library does the bytes), plus the flow that sends a local port's DHCP to the agent.

Parsing refuses rather than guesses: anything but an untagged IPv4/UDP 68 -> 67 BOOTREQUEST
from an Ethernet client with a message type is ``None``, and malformed input never raises.

The answer goes to the client's MAC and its new address, or to the broadcast address when
the client asked for broadcast replies (flag bit 15) or is refused (NAK); an ACK to INFORM
goes to the address the client has (``ciaddr``).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from os_ken.lib.packet import dhcp as oskdhcp
from os_ken.lib.packet import ethernet, ipv4, packet, udp

from ryu_midonet.datapath import pipeline as p
from ryu_midonet.datapath.flows import FlowDelete, FlowSpec, meter, output
from ryu_midonet.sim.core.model import ETH_IPV4, IP_UDP
from ryu_midonet.sim.devices import dhcp

SERVER_PORT, CLIENT_PORT = 67, 68
BROADCAST_FLAG = 0x8000
BOOTREQUEST, BOOTREPLY = 1, 2
OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_HOSTNAME, OPT_MTU = 1, 3, 6, 12, 26
OPT_REQUESTED_IP, OPT_LEASE, OPT_MSG_TYPE, OPT_SERVER_ID = 50, 51, 53, 54
OPT_CLASSLESS_ROUTES, OPT_MS_CLASSLESS_ROUTES = 121, 249
_ETH_HEADER = 14
_UDP_HEADER = 8


@dataclass(frozen=True)
class Received:
    """A client's message: what the decision reads, and what the answer echoes."""

    request: dhcp.Request
    xid: int
    flags: int
    giaddr: str


def parse(data: bytes) -> Received | None:
    """The DHCP request in an Ethernet frame, None when it is not one."""
    try:
        return _parse(data)
    except (struct.error, ValueError, TypeError, IndexError, UnicodeDecodeError):
        return None


def _parse(data: bytes) -> Received | None:
    if len(data) < _ETH_HEADER + 20 + _UDP_HEADER:
        return None
    (eth_type,) = struct.unpack_from("!H", data, 12)
    if eth_type != ETH_IPV4:
        return None
    ihl = (data[_ETH_HEADER] & 0x0F) * 4
    if data[_ETH_HEADER] >> 4 != 4 or ihl < 20 or data[_ETH_HEADER + 9] != IP_UDP:
        return None
    l4 = _ETH_HEADER + ihl
    sport, dport = struct.unpack_from("!HH", data, l4)
    if (sport, dport) != (CLIENT_PORT, SERVER_PORT):
        return None
    msg, _, _ = oskdhcp.dhcp.parser(bytes(data[l4 + _UDP_HEADER:]))
    if msg.op != BOOTREQUEST or msg.htype != 1 or msg.hlen != 6 or msg.options is None:
        return None
    opts = {o.tag: bytes(o.value) for o in msg.options.option_list
            if isinstance(o, oskdhcp.option)}
    kind = opts.get(OPT_MSG_TYPE, b"")
    if len(kind) != 1:
        return None
    request = dhcp.Request(kind[0], str(msg.chaddr).lower(), str(msg.ciaddr),
                           _address(opts.get(OPT_REQUESTED_IP)),
                           _address(opts.get(OPT_SERVER_ID)))
    return Received(request, msg.xid, msg.flags, str(msg.giaddr))


def _address(raw: bytes | None) -> str | None:
    return str(ipaddress.IPv4Address(raw)) if raw is not None and len(raw) == 4 else None


def build(answer: dhcp.Answer, received: Received) -> bytes:
    """The server's frame answering ``received``."""
    client = received.request.mac
    ciaddr = received.request.ciaddr
    broadcast = answer.msg_type == dhcp.NAK or bool(received.flags & BROADCAST_FLAG)
    if broadcast:
        eth_dst, ip_dst = "ff:ff:ff:ff:ff:ff", "255.255.255.255"
    elif answer.yiaddr == dhcp.ANY:
        eth_dst, ip_dst = client, ciaddr
    else:
        eth_dst, ip_dst = client, answer.yiaddr
    msg = oskdhcp.dhcp(
        op=BOOTREPLY, chaddr=client, xid=received.xid, flags=received.flags,
        ciaddr=ciaddr if answer.msg_type != dhcp.NAK else dhcp.ANY,
        yiaddr=answer.yiaddr, siaddr=dhcp.ANY, giaddr=received.giaddr,
        options=oskdhcp.options(option_list=_options(answer)))
    frame = packet.Packet()
    frame.add_protocol(ethernet.ethernet(dst=eth_dst, src=answer.server_mac,
                                         ethertype=ETH_IPV4))
    frame.add_protocol(ipv4.ipv4(src=answer.server_ip, dst=ip_dst, proto=IP_UDP, ttl=64))
    frame.add_protocol(udp.udp(src_port=SERVER_PORT, dst_port=CLIENT_PORT))
    frame.add_protocol(msg)
    frame.serialize()
    return bytes(frame.data)


def _options(answer: dhcp.Answer) -> list[oskdhcp.option]:
    def opt(tag: int, value: bytes) -> oskdhcp.option:
        return oskdhcp.option(tag=tag, value=value)

    out = [opt(OPT_MSG_TYPE, bytes([answer.msg_type])),
           opt(OPT_SERVER_ID, _ip(answer.server_ip))]
    if answer.msg_type == dhcp.NAK:
        return out
    if answer.lease_time is not None:
        out.append(opt(OPT_LEASE, struct.pack("!I", answer.lease_time)))
    if answer.netmask:
        out.append(opt(OPT_MASK, _ip(answer.netmask)))
    if answer.router:
        out.append(opt(OPT_ROUTER, _ip(answer.router)))
    if answer.dns:
        out.append(opt(OPT_DNS, b"".join(_ip(a) for a in answer.dns)))
    if answer.mtu is not None:
        out.append(opt(OPT_MTU, struct.pack("!H", answer.mtu)))
    if answer.routes:
        routes = classless_routes(answer.routes)
        out += [opt(OPT_CLASSLESS_ROUTES, routes), opt(OPT_MS_CLASSLESS_ROUTES, routes)]
    if answer.host_name:
        out.append(opt(OPT_HOSTNAME, answer.host_name.encode("utf-8")[:255]))
    extra = dict(answer.extra)
    return [o for o in out if o.tag not in extra] + [opt(t, v) for t, v in answer.extra]


def classless_routes(routes: tuple[dhcp.Route, ...]) -> bytes:
    """RFC 3442's encoding: width, the significant octets of the destination, the router."""
    out = b""
    for route in routes:
        significant = (route.length + 7) // 8
        out += bytes([route.length]) + _ip(route.prefix)[:significant] + _ip(route.gateway)
    return out[:255]


def _ip(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def punt_flow(ofport: int, tunnel_key: int, metered: bool) -> FlowSpec:
    """The flow that sends a local port's DHCP client messages to the agent (through the
    port's miss meter when ports have one), above every flow built from a simulation."""
    actions = ((meter(p.meter_id(tunnel_key)),) if metered else ()) + (output("controller"),)
    return FlowSpec(p.TABLE_FLOWS, p.PRIORITY_LOCAL_SERVICE,
                    {"in_port": ofport, "eth_type": ETH_IPV4, "ip_proto": IP_UDP,
                     "udp_src": CLIENT_PORT, "udp_dst": SERVER_PORT},
                    actions, cookie=p.cookie(p.COOKIE_DHCP, tunnel_key))


def punt_delete(tunnel_key: int) -> FlowDelete:
    """What removes :func:`punt_flow` of the port whose tunnel key is ``tunnel_key``."""
    return FlowDelete(p.cookie(p.COOKIE_DHCP, tunnel_key))
