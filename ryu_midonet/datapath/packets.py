"""Raw frames <-> simulator packets (os-ken's packet library does the byte work)."""

from __future__ import annotations

import socket
import struct
from typing import Any

from os_ken.lib.packet import arp, ethernet, icmp, ipv4, packet, tcp, udp, vlan

from ryu_midonet.sim.core.model import ETH_ARP, ETH_IPV4, IP_ICMP, IP_TCP, IP_UDP, Packet

_ETH = struct.Struct("!6s6sH")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_PORTS = struct.Struct("!HH")
_L4_MIN = {IP_TCP: 20, IP_UDP: 8}


_VLAN_TPIDS = (0x8100, 0x88A8)


def parse(data: bytes) -> Packet | None:
    """The headers of an Ethernet frame; None when it is not Ethernet at all.

    os-ken's packet library never sees more of a frame than the headers the simulator uses
    (Ethernet, VLAN tags, ARP, the IPv4 header, ICMP): its parsers of what may follow (TCP
    options, IPv6, tunnels, BGP, DHCP, ...) are not needed, and some loop forever on crafted
    input (a TCP option of length 0), which would stop the agent. TCP and UDP ports are read
    here.
    """
    fast = _parse_ip_datagram(data)
    if fast is not None:
        return fast
    cut, l4 = _headers_end(data)
    found = parse_with_os_ken(data[:cut])
    if found is None or l4 is None or found.ipv4_src is None:
        return found
    head, segment = l4
    return found.replace(l4_head=head, **_ports(found.ip_proto, segment))


def _headers_end(data: bytes) -> tuple[int, tuple[bytes, bytes] | None]:
    """How much of ``data`` os-ken is given, and, for the first (or only) fragment of an IPv4
    datagram other than ICMP, what follows its IPv4 header, which os-ken is then not given:
    its first 8 bytes, and the segment up to the datagram's total length."""
    offset = 12
    while len(data) >= offset + 2:
        (eth_type,) = struct.unpack_from("!H", data, offset)
        if eth_type not in _VLAN_TPIDS:
            break
        offset += 4
    else:
        return len(data), None
    l3 = offset + 2
    if eth_type == ETH_ARP:
        return len(data), None
    if eth_type != ETH_IPV4 or len(data) < l3 + 20:
        return l3, None
    (ver_ihl, _, total_length, _, frag, _, proto, _, _, _) = _IPV4.unpack_from(data, l3)
    if proto == IP_ICMP:
        return len(data), None
    header = (ver_ihl & 0xF) * 4
    end = l3 + max(header, 20)
    if frag & 0x1FFF:
        return end, None
    start = l3 + header
    segment = bytes(data[start:l3 + total_length]) if header >= 20 else b""
    return end, (bytes(data[start:start + 8]), segment)


def _ports(proto: int | None, segment: bytes) -> dict[str, int]:
    """A TCP or UDP segment's ports, when os-ken would have read them."""
    minimum = _L4_MIN.get(proto or 0)
    if minimum is None or len(segment) < minimum or not segment.strip(b"\0"):
        return {}
    sport, dport = _PORTS.unpack_from(segment)
    if proto == IP_TCP:
        return {"tcp_src": sport, "tcp_dst": dport}
    return {"udp_src": sport, "udp_dst": dport}


def parse_with_os_ken(data: bytes) -> Packet | None:
    """The headers of ``data`` as os-ken's packet library reads the whole frame (for tests:
    :func:`parse` gives the same for every frame os-ken can read)."""
    try:
        pkt = packet.Packet(data)
    except Exception:  # noqa: BLE001 - a malformed frame is simply not simulated
        return None
    eth = pkt.get_protocol(ethernet.ethernet)
    if eth is None:
        return None
    fields: dict[str, Any] = {"eth_src": eth.src, "eth_dst": eth.dst, "eth_type": eth.ethertype}
    tag = pkt.get_protocol(vlan.vlan)
    if tag is not None:
        fields["vlan_vid"] = tag.vid
        fields["vlan_pcp"] = tag.pcp or None  # priority 0 is no priority
        fields["eth_type"] = tag.ethertype
    a = pkt.get_protocol(arp.arp)
    if a is not None:
        fields.update(arp_op=a.opcode, arp_spa=a.src_ip, arp_tpa=a.dst_ip, arp_sha=a.src_mac,
                      arp_tha=a.dst_mac)
    ip = pkt.get_protocol(ipv4.ipv4)
    if ip is not None:
        offset = ip.offset & 0x1FFF
        more = bool(ip.flags & 0x1)
        fields.update(ipv4_src=ip.src, ipv4_dst=ip.dst, ip_proto=ip.proto, nw_ttl=ip.ttl,
                      ip_dscp=ip.tos >> 2, ip_ecn=ip.tos & 3,
                      ip_frag="later" if offset else "first" if more else "no")
        if offset == 0:
            _l4(pkt, ip.proto, fields)
            start = 14 + (4 if tag is not None else 0) + ip.header_length * 4
            fields["l4_head"] = bytes(data[start:start + 8])
    return Packet(**fields)


def _parse_ip_datagram(data: bytes) -> Packet | None:
    """The headers of an untagged, unfragmented IPv4 TCP or UDP frame, read directly: the
    same as os-ken's packet library gives. None for any other frame (os-ken parses those)."""
    if type(data) is not bytes or len(data) < 34:
        return None
    dst, src, eth_type = _ETH.unpack_from(data)
    if eth_type != ETH_IPV4:
        return None
    (ver_ihl, tos, total_length, _, frag, ttl, proto, _, ip_src, ip_dst) = \
        _IPV4.unpack_from(data, 14)
    header = (ver_ihl & 0xF) * 4
    minimum = _L4_MIN.get(proto)
    if ver_ihl >> 4 != 4 or header < 20 or minimum is None or frag & 0x1FFF:
        return None
    segment = data[14 + header:14 + total_length]
    if len(segment) < minimum or not segment.strip(b"\0"):
        return None
    sport, dport = _PORTS.unpack_from(segment)
    if proto == IP_UDP:
        if udp.udp.get_packet_type(sport, dport) is not None:
            return None  # os-ken would parse the payload too (DHCP, VXLAN, ...)
        ports = {"udp_src": sport, "udp_dst": dport}
    else:
        if tcp.tcp.get_payload_type(sport, dport) is not None:
            return None  # os-ken would parse the payload too (BGP, OpenFlow, ...)
        ports = {"tcp_src": sport, "tcp_dst": dport}
    return Packet(eth_src=_mac_text(src), eth_dst=_mac_text(dst), eth_type=eth_type,
                  ipv4_src=socket.inet_ntoa(ip_src), ipv4_dst=socket.inet_ntoa(ip_dst),
                  ip_proto=proto, nw_ttl=ttl, ip_dscp=tos >> 2, ip_ecn=tos & 3,
                  ip_frag="first" if frag & 0x2000 else "no", **ports,
                  l4_head=bytes(data[14 + header:14 + header + 8]))


def _mac_text(raw: bytes) -> str:
    return raw.hex(":")


def _l4(pkt: packet.Packet, proto: int, fields: dict[str, Any]) -> None:
    if proto == IP_TCP and (seg := pkt.get_protocol(tcp.tcp)) is not None:
        fields.update(tcp_src=seg.src_port, tcp_dst=seg.dst_port)
    elif proto == IP_UDP and (dgram := pkt.get_protocol(udp.udp)) is not None:
        fields.update(udp_src=dgram.src_port, udp_dst=dgram.dst_port)
    elif proto == IP_ICMP and (msg := pkt.get_protocol(icmp.icmp)) is not None:
        fields.update(icmpv4_type=msg.type, icmpv4_code=msg.code)
        fields["payload"] = _icmp_body(msg)


def _icmp_body(msg: icmp.icmp) -> bytes:
    """ICMP payload: echo id, sequence and data; for errors, the quoted original packet."""
    data = msg.data
    if isinstance(data, icmp.echo):
        ident, seq = int(data.id), int(data.seq)
        return ident.to_bytes(2, "big") + seq.to_bytes(2, "big") + bytes(data.data or b"")
    if isinstance(data, icmp.dest_unreach | icmp.TimeExceeded):
        return bytes(data.data or b"")
    if isinstance(data, bytes):
        return data
    return b""


def build(p: Packet) -> bytes:
    """An Ethernet frame with ``p``'s headers (ARP, or IPv4 with ICMP/TCP/UDP)."""
    pkt = packet.Packet()
    eth_type = p.eth_type
    if p.vlan_vid is not None:
        pkt.add_protocol(ethernet.ethernet(p.eth_dst, p.eth_src, 0x8100))
        pkt.add_protocol(vlan.vlan(pcp=p.vlan_pcp or 0, vid=p.vlan_vid, ethertype=eth_type))
    else:
        pkt.add_protocol(ethernet.ethernet(p.eth_dst, p.eth_src, eth_type))
    if eth_type == ETH_ARP:
        pkt.add_protocol(arp.arp(opcode=p.arp_op or 1, src_mac=p.arp_sha or p.eth_src,
                                 src_ip=p.arp_spa, dst_mac=p.arp_tha or "00:00:00:00:00:00",
                                 dst_ip=p.arp_tpa))
    elif eth_type == ETH_IPV4:
        tos = ((p.ip_dscp or 0) << 2) | (p.ip_ecn or 0)
        pkt.add_protocol(ipv4.ipv4(src=p.ipv4_src, dst=p.ipv4_dst, proto=p.ip_proto or 0,
                                   ttl=p.nw_ttl or 64, tos=tos))
        if p.ip_proto == IP_ICMP:
            pkt.add_protocol(icmp.icmp(type_=p.icmpv4_type or 0, code=p.icmpv4_code or 0,
                                       csum=0, data=_icmp_data(p)))
        elif p.ip_proto == IP_TCP:
            pkt.add_protocol(tcp.tcp(src_port=p.tcp_src or 0, dst_port=p.tcp_dst or 0))
            pkt.add_protocol(p.payload)
        elif p.ip_proto == IP_UDP:
            pkt.add_protocol(udp.udp(src_port=p.udp_src or 0, dst_port=p.udp_dst or 0))
            pkt.add_protocol(p.payload)
        elif p.payload:
            pkt.add_protocol(p.payload)
    pkt.serialize()
    return bytes(pkt.data)


def _icmp_data(p: Packet) -> object:
    body = p.payload or b""
    if p.icmpv4_type in (icmp.ICMP_ECHO_REQUEST, icmp.ICMP_ECHO_REPLY):
        ident = int.from_bytes(body[0:2] or b"\0\0", "big")
        seq = int.from_bytes(body[2:4] or b"\0\0", "big")
        return icmp.echo(id_=ident, seq=seq, data=body[4:])
    if p.icmpv4_type == icmp.ICMP_DEST_UNREACH:
        return icmp.dest_unreach(data=body)  # body: the original IP header + 8 bytes
    if p.icmpv4_type == icmp.ICMP_TIME_EXCEEDED:
        return icmp.TimeExceeded(data=body)
    return body
