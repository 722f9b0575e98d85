"""A packet described field by field (as on a command line), checked and completed."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ryu_midonet.sim.core.model import ETH_ARP, ETH_IPV4, IP_ICMP, IP_TCP, IP_UDP, Packet

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
DEFAULT_SRC_MAC = "02:00:00:00:00:01"
DEFAULT_DST_MAC = "02:00:00:00:00:02"
ECHO_REQUEST = 8


class BadField(ValueError):
    """A field of the description is wrong; ``option`` names it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


@dataclass(frozen=True)
class Description:
    """The fields given (None: not given, a default is taken)."""

    eth_src: str | None = None
    eth_dst: str | None = None
    ethertype: str | None = None
    ip_src: str | None = None
    ip_dst: str | None = None
    ip_protocol: str | None = None
    src_port: str | None = None
    dst_port: str | None = None
    icmp_type: str | None = None
    icmp_code: str | None = None
    ttl: str | None = None


def _mac(option: str, value: str | None, default: str) -> str:
    if value is None:
        return default
    mac = value.strip().lower()
    if not _MAC.match(mac):
        raise BadField(option, f"{value!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    return mac


def _int(option: str, value: str | None, low: int, high: int) -> int | None:
    if value is None:
        return None
    try:
        number = int(value, 0)
    except ValueError:
        raise BadField(option, f"{value!r} is not a number") from None
    if not low <= number <= high:
        raise BadField(option, f"{number} is out of range {low}-{high}")
    return number


def _ip(option: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise BadField(option, f"{value!r} is not an IPv4 address") from None


_PROTOCOLS = {"icmp": IP_ICMP, "tcp": IP_TCP, "udp": IP_UDP}
_ETHERTYPES = {"ipv4": ETH_IPV4, "ip": ETH_IPV4, "arp": ETH_ARP}


def build(d: Description) -> Packet:
    """The packet ``d`` describes. An IPv4 packet is ICMP echo unless told otherwise; ports
    need TCP or UDP, an ICMP type needs ICMP. Raises :class:`BadField`."""
    eth_type = _ETHERTYPES.get(d.ethertype.strip().lower()) if d.ethertype else ETH_IPV4
    if eth_type is None:
        eth_type = _int("--ethertype", d.ethertype, 0x600, 0xFFFF) or 0
    src = _mac("--eth-src", d.eth_src, DEFAULT_SRC_MAC)
    dst = _mac("--eth-dst", d.eth_dst,
               "ff:ff:ff:ff:ff:ff" if eth_type == ETH_ARP else DEFAULT_DST_MAC)
    ip_src, ip_dst = _ip("--ip-src", d.ip_src), _ip("--ip-dst", d.ip_dst)
    proto = None
    if d.ip_protocol is not None:
        proto = _PROTOCOLS.get(d.ip_protocol.strip().lower())
        if proto is None:
            proto = _int("--ip-protocol", d.ip_protocol, 0, 255)
    sport = _int("--src-port", d.src_port, 0, 65535)
    dport = _int("--dst-port", d.dst_port, 0, 65535)
    itype = _int("--icmp-type", d.icmp_type, 0, 255)
    icode = _int("--icmp-code", d.icmp_code, 0, 255)
    ttl = _int("--ttl", d.ttl, 1, 255)
    if eth_type == ETH_ARP:
        return _arp(src, dst, ip_src, ip_dst, d)
    if eth_type != ETH_IPV4:
        for option, value in (("--ip-src", ip_src), ("--ip-dst", ip_dst),
                              ("--ip-protocol", proto)):
            if value is not None:
                raise BadField(option, f"needs an IPv4 packet, not ethertype {eth_type:#06x}")
        return Packet(eth_src=src, eth_dst=dst, eth_type=eth_type)
    if ip_src is None:
        raise BadField("--ip-src", "required for an IPv4 packet")
    if ip_dst is None:
        raise BadField("--ip-dst", "required for an IPv4 packet")
    if proto is None:
        proto = IP_TCP if (sport is not None or dport is not None) else IP_ICMP
    if proto not in (IP_TCP, IP_UDP):
        for option, value in (("--src-port", sport), ("--dst-port", dport)):
            if value is not None:
                raise BadField(option, "needs --ip-protocol tcp or udp")
    if proto != IP_ICMP:
        for option, value in (("--icmp-type", itype), ("--icmp-code", icode)):
            if value is not None:
                raise BadField(option, "needs --ip-protocol icmp")
    packet = Packet(eth_src=src, eth_dst=dst, eth_type=ETH_IPV4, ipv4_src=ip_src,
                    ipv4_dst=ip_dst, ip_proto=proto, ip_dscp=0, ip_ecn=0,
                    nw_ttl=64 if ttl is None else ttl, ip_frag="no")
    if proto == IP_TCP:
        return packet.replace(tcp_src=40000 if sport is None else sport,
                              tcp_dst=80 if dport is None else dport)
    if proto == IP_UDP:
        return packet.replace(udp_src=40000 if sport is None else sport,
                              udp_dst=53 if dport is None else dport)
    if proto == IP_ICMP:
        return packet.replace(icmpv4_type=ECHO_REQUEST if itype is None else itype,
                              icmpv4_code=0 if icode is None else icode)
    return packet


def _arp(src: str, dst: str, ip_src: str | None, ip_dst: str | None,
         d: Description) -> Packet:
    for option, value in (("--ip-protocol", d.ip_protocol), ("--src-port", d.src_port),
                          ("--dst-port", d.dst_port), ("--icmp-type", d.icmp_type)):
        if value is not None:
            raise BadField(option, "does not apply to ARP")
    if ip_src is None:
        raise BadField("--ip-src", "required for ARP (the sender's address)")
    if ip_dst is None:
        raise BadField("--ip-dst", "required for ARP (the address asked for)")
    broadcast = dst == "ff:ff:ff:ff:ff:ff"
    return Packet(eth_src=src, eth_dst=dst, eth_type=ETH_ARP, arp_op=1, arp_spa=ip_src,
                  arp_tpa=ip_dst, arp_sha=src,
                  arp_tha="00:00:00:00:00:00" if broadcast else dst)
