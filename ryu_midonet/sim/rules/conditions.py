"""One rule's condition against a frame, recording which header fields it read.

A condition is an AND of the attributes the rule sets (``None``/empty: not set), each
inverted by its ``inv*`` flag; ``condInvert`` inverts the whole AND. The fragment policy is
checked first and is not inverted by anything. Attributes are checked in a fixed order and
the AND stops at the first false one: the fields of later attributes were not needed.

- ``inPorts``/``outPorts``: the port the packet entered / leaves the current device by (no
  out-port before the forwarding decision: never in the list).
- ``portGroup``: the exterior port the packet entered the topology through is a member (as
  MidoNet); ``inPortGroup``/``outPortGroup``: the current device's ingress / egress port.
- ``traversedDevice``: a device entered on the way here (the current one included).
- ``vlan`` (0 = not set)/``noVlan``: the frame's VLAN id.
- ``dlType`` (a negative value is the signed 16-bit form), ``dlSrc``/``dlDst`` with masks
  ``xxxx.xxxx.xxxx`` (default all ones; all zeros matches anything, reading nothing).
- ``nwTos`` (the ToS byte: DSCP and ECN), ``nwProto``, ``nwSrc``/``nwDst`` CIDRs (a /0 reads
  no address), IP address groups. ARP packets offer their sender/target addresses to the
  address attributes (as MidoNet); other non-IPv4 packets have no address, protocol or ToS,
  so those attributes are false (true when inverted).
- ``tpSrc``/``tpDst`` ranges: TCP/UDP ports; for ICMP the type (tpSrc) and code (tpDst), as
  MidoNet and security-group ICMP rules use them; false for packets without them (other
  protocols, non-first fragments).
- ``matchForwardFlow``/``matchReturnFlow``: connection tracking (:mod:`.conntrack`), checked
  last so that packets other attributes reject are not looked up.
- ``matchNwDstRewritten``: NAT rewrote the destination earlier on this packet's path.
- ``icmpDataSrcIp``/``icmpDataDstIp``: the addresses of the datagram an ICMP error quotes (a
  decision on the quote cannot be cached).

Fragment policy (default as the store gives it: ``header`` for rules with L4 ports,
``unfragmented`` for dynamic NAT, else ``any``): ``header`` accepts unfragmented packets and
first fragments, ``nonheader`` later fragments, ``unfragmented`` unfragmented packets. Only
IPv4 packets can be fragments; checking reads ``eth_type`` and ``ip_frag``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from ryu_midonet.sim.core.context import Context, Frame, Where
from ryu_midonet.sim.core.model import ETH_ARP, ETH_IPV4, IP_ICMP
from ryu_midonet.sim.rules import conntrack
from ryu_midonet.sim.rules.nat import is_static
from ryu_midonet.sim.rules.tuples import ICMP_ERRORS, PORTS, parse_quote
from ryu_midonet.types import Obj

Check = Callable[[Context, Obj, Where, Frame], bool | None]  # None: attribute not set


def matches(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool:
    """Whether ``rule``'s condition holds for ``frame`` at ``where``."""
    if not fragment_ok(ctx, rule, frame):
        return False
    conjunction = True
    for check in CHECKS:
        held = check(ctx, rule, where, frame)
        if held is False:
            conjunction = False
            break
    return conjunction != bool(rule.get("condInvert"))


def fragment_policy(rule: Obj) -> str:
    policy = rule.get("fragmentPolicy")
    if policy:
        return str(policy)
    if rule.get("type") in ("dnat", "snat") and not is_static(rule):
        return "unfragmented"
    if rule.get("tpSrc") is not None or rule.get("tpDst") is not None:
        return "header"
    return "any"


def fragment_ok(ctx: Context, rule: Obj, frame: Frame) -> bool:
    policy = fragment_policy(rule)
    if policy == "any":
        return True
    ctx.read(frame, "eth_type")
    frag = "no"
    if frame.packet.eth_type == ETH_IPV4:
        ctx.read(frame, "ip_frag")
        frag = frame.packet.ip_frag or "no"
    if policy == "header":
        return frag != "later"
    if policy == "nonheader":
        return frag == "later"
    return frag == "no"


def _inv(rule: Obj, flag: str, held: bool) -> bool:
    return held != bool(rule.get(flag))


# -- attributes, in the order they are checked ------------------------------------------------

def _in_ports(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    ports = rule.get("inPorts")
    if not ports:
        return None
    return _inv(rule, "invInPorts", where.in_port is not None and where.in_port["id"] in ports)


def _out_ports(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    ports = rule.get("outPorts")
    if not ports:
        return None
    return _inv(rule, "invOutPorts",
                where.out_port is not None and where.out_port["id"] in ports)


def _member(ctx: Context, group_id: str, port: Obj | None) -> bool:
    ctx.tag(group_id)
    group = ctx.view.get("portGroup", group_id)
    return port is not None and group is not None and port["id"] in (group.get("portIds") or ())


def _port_group(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    group = rule.get("portGroup")
    if not group:
        return None
    return _inv(rule, "invPortGroup", _member(ctx, group, ctx.session.ingress))


def _in_port_group(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    group = rule.get("inPortGroup")
    if not group:
        return None
    return _inv(rule, "invInPortGroup", _member(ctx, group, where.in_port))


def _out_port_group(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    group = rule.get("outPortGroup")
    if not group:
        return None
    return _inv(rule, "invOutPortGroup", _member(ctx, group, where.out_port))


def _traversed(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    device = rule.get("traversedDevice")
    if not device:
        return None
    return _inv(rule, "invTraversedDevice", device in frame.devices)


def _vlan(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    vlan, no_vlan = rule.get("vlan"), rule.get("noVlan")
    if not vlan and not no_vlan:
        return None
    ctx.read(frame, "vlan_vid")
    tag = frame.packet.vlan_vid
    if no_vlan and tag is not None:
        return False
    return not vlan or tag == vlan


def _dl_type(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    dl_type = rule.get("dlType")
    if dl_type is None:
        return None
    ctx.read(frame, "eth_type")
    return _inv(rule, "invDlType", frame.packet.eth_type == dl_type & 0xFFFF)


def _mac_int(text: str) -> int:
    return int(text.replace(":", "").replace(".", ""), 16)


def _mac(ctx: Context, rule: Obj, frame: Frame, side: str) -> bool | None:
    wanted = rule.get(f"dl{side}")
    if not wanted:
        return None
    mask = _mac_int(rule.get(f"dl{side}Mask") or "ffff.ffff.ffff")
    if mask == 0:
        return _inv(rule, f"invDl{side}", True)
    field = "eth_src" if side == "Src" else "eth_dst"
    ctx.read(frame, field)
    held = (_mac_int(getattr(frame.packet, field)) ^ _mac_int(wanted)) & mask == 0
    return _inv(rule, f"invDl{side}", held)


def _dl_src(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _mac(ctx, rule, frame, "Src")


def _dl_dst(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _mac(ctx, rule, frame, "Dst")


def _is_ipv4(ctx: Context, frame: Frame) -> bool:
    ctx.read(frame, "eth_type")
    return frame.packet.eth_type == ETH_IPV4


def _nw_tos(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    tos = rule.get("nwTos")
    if tos is None:
        return None
    held = False
    if _is_ipv4(ctx, frame):
        ctx.read(frame, "ip_dscp", "ip_ecn")
        p = frame.packet
        held = ((p.ip_dscp or 0) << 2 | (p.ip_ecn or 0)) == tos
    return _inv(rule, "invNwTos", held)


def _nw_proto(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    proto = rule.get("nwProto")
    if proto is None:
        return None
    held = False
    if _is_ipv4(ctx, frame):
        ctx.read(frame, "ip_proto")
        held = (frame.packet.ip_proto or 0) == proto
    return _inv(rule, "invNwProto", held)


def _address(ctx: Context, frame: Frame, side: str) -> str | None:
    """The packet's source/destination address (ARP: sender/target), None when none."""
    ctx.read(frame, "eth_type")
    p = frame.packet
    if p.eth_type == ETH_IPV4:
        field = "ipv4_src" if side == "Src" else "ipv4_dst"
    elif p.eth_type == ETH_ARP:
        field = "arp_spa" if side == "Src" else "arp_tpa"
    else:
        return None
    ctx.read(frame, field)
    value = getattr(p, field)
    return None if value is None else str(value)


def _has_address(ctx: Context, frame: Frame) -> bool:
    ctx.read(frame, "eth_type")
    return frame.packet.eth_type in (ETH_IPV4, ETH_ARP)


def _cidr(ctx: Context, rule: Obj, frame: Frame, side: str) -> bool | None:
    addr = rule.get(f"nw{side}Address")
    if not addr:
        return None
    length = rule.get(f"nw{side}Length")
    net = ipaddress.ip_network(addr if length is None else f"{addr}/{length}", strict=False)
    if net.prefixlen == 0 and net.version == 4:
        held = _has_address(ctx, frame)  # any address will do: no need to read it
    else:
        ip = _address(ctx, frame, side)
        held = ip is not None and ipaddress.ip_address(ip) in net
    return _inv(rule, f"invNw{side}", held)


def _nw_src(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _cidr(ctx, rule, frame, "Src")


def _nw_dst(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _cidr(ctx, rule, frame, "Dst")


def _l4(ctx: Context, frame: Frame, side: str) -> int | None:
    """TCP/UDP port, or ICMP type (source side) / code (destination side)."""
    if not _is_ipv4(ctx, frame):
        return None
    ctx.read(frame, "ip_proto")
    p = frame.packet
    if p.ip_proto in PORTS:
        field = PORTS[p.ip_proto][0 if side == "Src" else 1]
    elif p.ip_proto == IP_ICMP:
        field = "icmpv4_type" if side == "Src" else "icmpv4_code"
    else:
        return None
    ctx.read(frame, field)
    value: int | None = getattr(p, field)
    if value is None:
        ctx.read(frame, "ip_frag")  # a non-first fragment carries no L4 header
    return value


def _tp(ctx: Context, rule: Obj, frame: Frame, side: str) -> bool | None:
    wanted = rule.get(f"tp{side}")
    if wanted is None:
        return None
    value = _l4(ctx, frame, side)
    start = wanted.get("start")
    end = wanted.get("end", start)
    held = value is not None and (start or 0) <= value <= (start if end is None else end)
    return _inv(rule, f"invTp{side}", held)


def _tp_src(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _tp(ctx, rule, frame, "Src")


def _tp_dst(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _tp(ctx, rule, frame, "Dst")


def _ip_group(ctx: Context, rule: Obj, frame: Frame, side: str) -> bool | None:
    group_id = rule.get(f"ipAddrGroup{side}")
    if not group_id:
        return None
    ctx.tag(group_id)
    group = ctx.view.get("ipAddrGroup", group_id)
    ip = _address(ctx, frame, side)
    held = False
    if ip is not None and group is not None:
        wanted = ipaddress.ip_address(ip)
        held = any(_same(wanted, a) for a in group.get("addresses") or ())
    return _inv(rule, f"invIpAddrGroup{side}", held)


def _same(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    try:
        return ipaddress.ip_address(text) == ip
    except ValueError:
        return False


def _ip_group_src(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _ip_group(ctx, rule, frame, "Src")


def _ip_group_dst(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _ip_group(ctx, rule, frame, "Dst")


def _icmp_data(ctx: Context, rule: Obj, frame: Frame, side: str) -> bool | None:
    addr = rule.get(f"icmpData{side}IpAddress")
    if not addr:
        return None
    length = rule.get(f"icmpData{side}IpLength")
    net = ipaddress.ip_network(addr if length is None else f"{addr}/{length}", strict=False)
    held = False
    if _is_ipv4(ctx, frame):
        ctx.read(frame, "ip_proto")
        p = frame.packet
        if p.ip_proto == IP_ICMP:
            ctx.read(frame, "icmpv4_type")
        if p.ip_proto == IP_ICMP and p.icmpv4_type in ICMP_ERRORS:
            ctx.uncacheable()
            quote = parse_quote(p.payload)
            if quote is not None:
                quoted = quote.src if side == "Src" else quote.dst
                held = ipaddress.ip_address(quoted) in net
    return _inv(rule, f"invIcmpData{side}Ip", held)


def _icmp_data_src(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _icmp_data(ctx, rule, frame, "Src")


def _icmp_data_dst(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    return _icmp_data(ctx, rule, frame, "Dst")


def _dst_rewritten(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    if not rule.get("matchNwDstRewritten"):
        return None
    return frame.dnat


def _flow(ctx: Context, rule: Obj, where: Where, frame: Frame) -> bool | None:
    fwd, ret = rule.get("matchForwardFlow"), rule.get("matchReturnFlow")
    if not fwd and not ret:
        return None
    forward = conntrack.is_forward(ctx, frame, where.stage)
    return (not fwd or forward) and (not ret or not forward)


CHECKS: tuple[Check, ...] = (
    _in_ports, _out_ports, _port_group, _in_port_group, _out_port_group, _traversed,
    _dst_rewritten, _vlan, _dl_type, _dl_src, _dl_dst, _nw_tos, _nw_proto, _nw_src, _nw_dst,
    _tp_src, _tp_dst, _ip_group_src, _ip_group_dst, _icmp_data_src, _icmp_data_dst, _flow,
)
