"""The virtual IPv4 router.

A frame entering a router port is handled in this order:

1. VLAN-tagged frames are dropped. A broadcast frame is handled only if it is ARP. Otherwise the
   frame must be addressed to the ingress port's MAC.
2. ARP: a request for the ingress port's address (from its subnet) is answered out of the
   ingress port (in place, see :meth:`~ryu_midonet.sim.core.context.Context.answer_arp`), and
   the asker's address is remembered, unless the linked bridge already knows the asker at
   that MAC (:func:`bridge_knows`): then nothing is learned and the answer may be a flow. A
   reply addressed to the port, or a gratuitous ARP from the port's subnet, fills the ARP
   table. Other ARP is dropped. Learning happens for every such packet, so decisions that
   learn are not cacheable.
3. Only IPv4 goes further. The router's load balancer (:mod:`.l4lb`) translates TCP to a
   VIP, and its members' replies, which then skip the inbound and outbound filters; for
   any other packet the inbound filters run (:mod:`.filters`).
4. To one of the router's own port addresses (a :class:`RouterPorts` snapshot, built once per
   topology version): an ICMP echo request gets an echo reply; the rest is dropped.
5. Route selection (:mod:`.routing`). No route: ICMP net unreachable. BlackHole: silent drop.
   Reject: ICMP host (a /32 route) or net administratively prohibited.
6. Normal route: TTL <= 1 -> ICMP time exceeded (reads ``nw_ttl``, not cacheable); otherwise
   ``dec_ttl`` (the datapath returns packets whose TTL expires to the agent, so the normal path
   does not read the TTL). The outbound filters run. The next hop (the route's gateway, or the
   destination itself) is resolved to a MAC: a peer router port's MAC, a router port on the
   peer bridge with that address, the ARP table, or the address the linked bridge knows
   without hearing it (DHCP host entries, :func:`bridge_knows`, as OVN resolves its logical
   switch ports' addresses); unknown, an ARP request goes out of the
   egress port (a bridge that knows the address answers it at once: then the packet goes on)
   and the packet is held: the result is uncacheable and names the resolution it
   waits for (``Result.waiting``), so that whoever simulated it keeps it and simulates it
   again once the entry appears (the agent holds a few packets per next hop, for a few
   seconds, as MidoNet and the kernel do). Packets the topology generates are not held. The
   packet leaves with ``eth_src`` = egress port MAC and ``eth_dst`` = next hop MAC.

Answers (ARP replies, ICMP) go back out of the ingress port to the previous hop (the frame's
source MAC), from the ingress port's MAC and address: if that port is interior they are walked
through the peer device like any packet, so an answer to a VM behind a bridge reaches the VM's
port. ICMP errors are not sent about ICMP errors, non-first fragments or non-unicast sources.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ryu_midonet.sim.core import packets
from ryu_midonet.sim.core.context import Context, Frame
from ryu_midonet.sim.core.filters import admit
from ryu_midonet.sim.core.model import ETH_ARP, ETH_IPV4, IP_ICMP, ArpWait
from ryu_midonet.sim.core.packets import (
    ARP_REPLY,
    ARP_REQUEST,
    BROADCAST_MAC,
    ICMP_ECHO_REQUEST,
    ICMP_TIME_EXCEEDED,
    ICMP_UNREACH,
    UNREACH_HOST_PROHIBITED,
    UNREACH_NET,
    UNREACH_NET_PROHIBITED,
)
from ryu_midonet.sim.core.topology import TopologyView
from ryu_midonet.sim.devices import l4lb, routing
from ryu_midonet.sim.devices.bridge import known_address, router_macs
from ryu_midonet.sim.state import arp_tag
from ryu_midonet.types import Obj

NO_GATEWAY = ("0.0.0.0", "255.255.255.255")


def in_subnet(port: Obj, ip: str | None) -> bool:
    """Whether ``ip`` is on the port's network."""
    if ip is None or port.get("portAddress") is None or port.get("networkLength") is None:
        return False
    net = ipaddress.IPv4Network(f"{port['portAddress']}/{port['networkLength']}", strict=False)
    return ipaddress.IPv4Address(ip) in net


@dataclass(frozen=True)
class RouterPorts:
    """What a router knows of its own ports, built once per topology version."""

    addresses: frozenset[str]  # the ports' IPv4 addresses: packets to them are for the router

    @classmethod
    def build(cls, view: TopologyView, router_id: str) -> RouterPorts:
        return cls(frozenset(str(p["portAddress"]) for p in view.ports_of(router_id)
                             if p.get("portAddress")))


def own_ports(view: TopologyView, router_id: str) -> RouterPorts:
    """The router's :class:`RouterPorts` for the view's current topology."""
    return view.derived("router-ports", router_id, lambda: RouterPorts.build(view, router_id))


def bridge_knows(ctx: Context, port: Obj, ip: str) -> str | None:
    """The MAC of ``ip`` as the bridge that router port ``port`` links to knows it without
    hearing it (:func:`~ryu_midonet.sim.devices.bridge.known_address`), if it does."""
    peer = ctx.view.get("port", port.get("peerId"))
    if peer is None or peer.get("type") != "Bridge" or not peer.get("deviceId") or not ip:
        return None
    mac = known_address(ctx, str(peer["deviceId"]), ip)
    return None if mac is None else mac.lower()


class Router:
    kind = "router"

    def process(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> None:
        packet = frame.packet
        ctx.read(frame, "vlan_vid", "eth_dst", "eth_type")
        if packet.vlan_vid is not None:
            ctx.trace(frame, "VLAN-tagged frame: dropping")
            return
        dst_mac = packet.eth_dst.lower()
        if dst_mac == BROADCAST_MAC and packet.eth_type != ETH_ARP:
            ctx.trace(frame, "broadcast that is not ARP: dropping")
            return
        if dst_mac not in (BROADCAST_MAC, (in_port.get("portMac") or "").lower()):
            ctx.trace(frame, f"{dst_mac} is not the MAC of port {in_port['id']}: dropping")
            return
        if packet.eth_type == ETH_ARP:
            self._arp(ctx, device, in_port, frame)
            return
        if packet.eth_type != ETH_IPV4:
            ctx.trace(frame, f"ethertype {packet.eth_type:#06x} is not routed: dropping")
            return

        balanced = l4lb.balance(ctx, device, frame)
        if balanced == l4lb.Outcome.DROP:
            return
        if isinstance(balanced, Frame):  # load-balanced traffic skips the filters
            self._route(ctx, device, in_port, frame, balanced, filtered=False)
            return
        admitted = admit(ctx, ctx.filters.pre(ctx, device, in_port, frame),
                         "dropped by the inbound filters")
        if admitted is None:
            return
        self._route(ctx, device, in_port, frame, admitted)

    # -- ARP ---------------------------------------------------------------------------------
    def _arp(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> None:
        packet = frame.packet
        ctx.read(frame, "arp_op", "arp_spa", "arp_tpa")
        own = in_port.get("portAddress")
        if packet.arp_op == ARP_REQUEST and packet.arp_spa == packet.arp_tpa:
            self._learn_arp(ctx, device, in_port, frame, "gratuitous ARP")
        elif packet.arp_op == ARP_REQUEST and packet.arp_tpa == own:
            if not in_subnet(in_port, packet.arp_spa):
                ctx.trace(frame, f"ARP request from {packet.arp_spa}, off the port's network:"
                          " ignored")
                return
            known = bridge_knows(ctx, in_port, packet.arp_spa or "")
            ctx.read(frame, "arp_sha")
            if known is not None and known == (packet.arp_sha or "").lower():
                ctx.trace(frame, f"ARP request from {packet.arp_spa}, which the bridge knows"
                          f" at {known}")
            else:
                self._learn_arp(ctx, device, in_port, frame, "ARP request")
            ctx.trace(frame, f"ARP request for {own}: replying with {in_port.get('portMac')}")
            ctx.answer_arp(frame, in_port, in_port["portMac"])
        elif packet.arp_op == ARP_REQUEST:
            ctx.trace(frame, f"ARP request for {packet.arp_tpa}, not this port's address:"
                      " ignored")
        elif packet.arp_op == ARP_REPLY:
            ctx.read(frame, "arp_tha")
            mine = packet.arp_tpa == own and (packet.arp_tha or "").lower() == (
                in_port.get("portMac") or "").lower()
            if mine or packet.arp_spa == packet.arp_tpa:
                self._learn_arp(ctx, device, in_port, frame, "ARP reply")
            else:
                ctx.uncacheable()
                ctx.trace(frame, "ARP reply not addressed to this port: ignored")
        else:
            ctx.trace(frame, f"ARP operation {packet.arp_op}: dropping")

    def _learn_arp(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame,
                   what: str) -> None:
        packet = frame.packet
        ctx.uncacheable()
        ctx.read(frame, "arp_sha")
        if (packet.arp_spa is None or not in_subnet(in_port, packet.arp_spa)
                or not packet.arp_sha):
            ctx.trace(frame, f"{what} from {packet.arp_spa}, off the port's network: ignored")
            return
        if ctx.state.arps.put(device["id"], packet.arp_spa, packet.arp_sha):
            ctx.trace(frame, f"{what}: {packet.arp_spa} is at {packet.arp_sha}")

    # -- IPv4 --------------------------------------------------------------------------------
    def _route(self, ctx: Context, device: Obj, in_port: Obj, entry: Frame,
               frame: Frame, filtered: bool = True) -> None:
        packet = frame.packet
        ctx.read(frame, "ipv4_dst")
        dst = packet.ipv4_dst or "0.0.0.0"
        if dst in own_ports(ctx.view, device["id"]).addresses:
            self._to_router(ctx, in_port, frame)
            return

        candidates = routing.matching_dst(ctx.view.routes_of(device["id"]), dst)
        if routing.source_matters(candidates):
            ctx.read(frame, "ipv4_src")
        chosen = routing.lookup(candidates, packet.ipv4_src or "0.0.0.0")
        if not chosen:
            ctx.trace(frame, f"no route to {dst}: ICMP net unreachable")
            self._icmp_error(ctx, in_port, entry, ICMP_UNREACH, UNREACH_NET)
            return
        if len(chosen) > 1:
            ctx.read(frame, *routing.ecmp_fields(packet))
        route = routing.ecmp_pick(chosen, packet)
        ctx.tag(route["id"])
        ecmp = f" (ECMP, 1 of {len(chosen)})" if len(chosen) > 1 else ""
        ctx.trace(frame, f"route {route['id']}{ecmp}: {route['type']} "
                  f"{route['dstNetworkAddr']}/{route['dstNetworkLength']}")
        if route["type"] == "BlackHole":
            ctx.trace(frame, "blackhole route: dropping")
        elif route["type"] == "Reject":
            host = route["dstNetworkLength"] == 32
            ctx.trace(frame, "reject route: ICMP " + ("host" if host else "net")
                      + " administratively prohibited")
            code = UNREACH_HOST_PROHIBITED if host else UNREACH_NET_PROHIBITED
            self._icmp_error(ctx, in_port, entry, ICMP_UNREACH, code)
        else:
            self._forward(ctx, device, in_port, entry, frame, route, filtered)

    def _to_router(self, ctx: Context, in_port: Obj, frame: Frame) -> None:
        packet = frame.packet
        ctx.read(frame, "ip_proto")
        if packet.ip_proto == IP_ICMP:
            ctx.read(frame, "icmpv4_type")
        if packet.ip_proto == IP_ICMP and packet.icmpv4_type == ICMP_ECHO_REQUEST:
            ctx.uncacheable()
            ctx.trace(frame, f"echo request to {packet.ipv4_dst}: replying")
            ctx.emit(frame, in_port, packets.echo_reply(packet, in_port["portMac"]))
        else:
            ctx.trace(frame, f"addressed to the router ({packet.ipv4_dst}): dropping")

    def _forward(self, ctx: Context, device: Obj, in_port: Obj, entry: Frame, frame: Frame,
                 route: Obj, filtered: bool = True) -> None:
        out_port = ctx.view.get("port", route.get("nextHopPort"))
        if out_port is None or out_port.get("deviceId") != device["id"]:
            ctx.trace(frame, f"next-hop port {route.get('nextHopPort')} is not a port of this"
                      " router: dropping")
            return
        ctx.tag(out_port["id"])
        ttl = frame.packet.nw_ttl
        if ttl is not None and ttl <= 1:
            ctx.read(frame, "nw_ttl")
            ctx.uncacheable()
            ctx.trace(frame, f"TTL {ttl}: ICMP time exceeded")
            self._icmp_error(ctx, in_port, entry, ICMP_TIME_EXCEEDED, 0)
            return
        out = ctx.decrements(frame)
        passed = (admit(ctx, ctx.filters.post(ctx, device, out_port, out),
                        "dropped by the outbound filters") if filtered else out)
        if passed is None:
            return
        gateway = route.get("nextHopGateway")
        hop = gateway if gateway and gateway not in NO_GATEWAY else passed.packet.ipv4_dst
        mac = self._next_hop_mac(ctx, device, out_port, hop or "0.0.0.0", passed)
        if mac is None:
            return
        ctx.trace(passed, f"next hop {hop} is at {mac}: out of port {out_port['id']}")
        ctx.leave(out_port, passed.set(eth_src=out_port["portMac"], eth_dst=mac))

    def _next_hop_mac(self, ctx: Context, device: Obj, out_port: Obj, hop: str,
                      frame: Frame) -> str | None:
        if out_port.get("peerId"):
            peer = ctx.view.get("port", out_port["peerId"])
            if peer is None:
                ctx.trace(frame, f"port {out_port['id']} links to a missing port: dropping")
                return None
            if peer.get("type") == "Router":
                ctx.tag(peer["id"])
                return str(peer.get("portMac") or "").lower() or None
            ctx.tag(peer.get("deviceId") or "")
            for mac, (_, router_port) in router_macs(ctx.view, peer.get("deviceId") or "").items():
                if router_port.get("portAddress") == hop and router_port["id"] != out_port["id"]:
                    ctx.tag(router_port["id"])
                    return mac
        elif not in_subnet(out_port, hop):
            ctx.trace(frame, f"next hop {hop} is off the network of port {out_port['id']}:"
                      " dropping")
            return None
        ctx.tag(arp_tag(device["id"], hop))
        resolved = ctx.state.arps.get(device["id"], hop)
        if resolved is None:
            resolved = bridge_knows(ctx, out_port, hop)
            if resolved is not None:
                ctx.trace(frame, f"no ARP entry for {hop}: the bridge knows it at {resolved}")
                return resolved
            ctx.uncacheable()
            ctx.trace(frame, f"no ARP entry for {hop}: ARP request out of port"
                      f" {out_port['id']}")
            ctx.emit(frame, out_port, packets.arp_request(out_port["portMac"],
                                                          out_port["portAddress"], hop))
            # a bridge that knows the address answered at once (ARP suppression)
            resolved = ctx.state.arps.get(device["id"], hop)
            if resolved is None:
                ctx.hold(frame, ArpWait(device["id"], out_port["id"], hop))
        return resolved

    def _icmp_error(self, ctx: Context, in_port: Obj, entry: Frame, icmp_type: int,
                    code: int) -> None:
        if not packets.may_answer_with_error(entry.packet) or not in_port.get("portAddress"):
            ctx.trace(entry, "no ICMP error for this packet")
            return
        ctx.emit(entry, in_port, packets.icmp_error(entry.packet, icmp_type, code,
                                                    in_port["portAddress"], in_port["portMac"]))
