"""The virtual L2 switch: MAC learning, unicast to the learned port, flooding otherwise.

- VLANs: a bridge with ports that have a ``vlanId`` is VLAN-aware (:mod:`.vlan`): tags are
  pushed at its VLAN ports and popped leaving by them, frames from trunks are on the VLAN of
  their tag, and a frame only ever leaves through trunks and the port of its VLAN -- unicast,
  unknown unicast and floods alike -- so traffic never crosses VLANs. In a VLAN-unaware
  bridge frames' own 802.1Q tags are carried unchanged and do not choose anything. A router
  port linked through a bridge port is reachable from that port's VLAN only.
- The source MAC is learned behind the ingress port, keyed (mac, vlan) where vlan is the
  frame's VLAN in the bridge (None: untagged, or a VLAN-unaware bridge). Learning is a side
  effect, not an input of the decision: ``eth_src`` is not read; the entry goes to
  ``Result.learned``. As in MidoNet it happens before the inbound filters, so a frame a chain
  drops still teaches its source. Group (multicast) sources and router ports' MACs are not
  learned: then ``eth_src`` is read, so that a flow built for such a source takes no frame
  whose source must be learned.
- MACs of router ports linked to the bridge are known without learning (like MidoNet's
  MAC -> logical port map): frames to them go straight to the linking port.
- A unicast destination learned on another port goes there; learned on the ingress port, the
  frame is dropped; unknown, or a group address (broadcast, multicast), the frame floods to
  every other port its VLAN reaches: exterior ports get a copy, interior ones carry it into
  their peer device. A flood caused by an unknown MAC is tagged with that MAC's entry, so
  learning it later removes the flood flow.
- The decision reads ``eth_dst``; for a broadcast also ``eth_type``, and for ARP ``arp_op``
  (requests: ``arp_spa`` and ``arp_tpa``).
- ARP suppression (frames on no VLAN only, as in MidoNet): a broadcast ARP request (not
  gratuitous) for an address the topology knows does not flood. For the address of a router
  port linked on the segment it goes to that port only (the router answers, and learns the
  asker). For the address of a DHCP host or server of an enabled subnet of the bridge
  (:mod:`.dhcp`), an address of the bridge's ARP table whose MAC is learned on the segment
  (:mod:`.bridge_arp`, learned from the ARP VMs send on exterior ports: ``eth_type`` of their
  frames is read), or a neighbour that a router linked on the segment learned and whose MAC is
  learned on the segment (addresses learned from a VM's own traffic), the bridge answers out
  of the ingress port itself: on the asking VM's host, by a flow that turns the request into
  its reply (an ARP responder, see :meth:`~ryu_midonet.sim.core.context.Context.answer_arp`;
  the decision reads ``arp_sha`` and ``eth_src``). A request from the address's owner (a
  duplicate address probe) and requests for unknown addresses flood; such a flood depends on
  the bridge (its DHCP hosts are its children) and on the routers' ARP and MAC entries that
  could make the address known, so it is removed when any of them changes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from ryu_midonet.sim.core.context import Context, Frame
from ryu_midonet.sim.core.filters import admit
from ryu_midonet.sim.core.model import ETH_ARP, MacLearning
from ryu_midonet.sim.core.packets import ARP_REQUEST, BROADCAST_MAC, is_multicast
from ryu_midonet.sim.core.topology import TopologyView, is_interior
from ryu_midonet.sim.devices import bridge_arp, dhcp, vlan
from ryu_midonet.sim.state import arp_tag, mac_tag
from ryu_midonet.types import Obj

RouterLink = tuple[Obj, Obj]  # (bridge port, router port linked to it)


@dataclass(frozen=True)
class BridgeLinks:
    """A bridge's links to router ports, built once per topology version: by router port MAC,
    and by the VLAN segment of the bridge port."""

    by_mac: Mapping[str, RouterLink]
    by_segment: Mapping[int | None, Mapping[str, RouterLink]]

    @classmethod
    def build(cls, view: TopologyView, bridge_id: str) -> BridgeLinks:
        by_mac: dict[str, RouterLink] = {}
        by_segment: dict[int | None, dict[str, RouterLink]] = {}
        for port in view.ports_of(bridge_id):
            peer = view.get("port", port.get("peerId"))
            if peer is not None and peer.get("type") == "Router" and peer.get("portMac"):
                mac = peer["portMac"].lower()
                by_mac[mac] = (port, peer)
        for mac, link in by_mac.items():
            by_segment.setdefault(segment(link[0]), {})[mac] = link
        return cls(by_mac, by_segment)


def links(view: TopologyView, bridge_id: str) -> BridgeLinks:
    """The bridge's :class:`BridgeLinks` for the view's current topology."""
    return view.derived("bridge-links", bridge_id, lambda: BridgeLinks.build(view, bridge_id))


def router_macs(view: TopologyView, bridge_id: str) -> Mapping[str, RouterLink]:
    """MAC -> (bridge port, router port) for the router ports linked to the bridge."""
    return links(view, bridge_id).by_mac


segment = vlan.segment


class Bridge:
    kind = "bridge"

    def process(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> None:
        bridge_id = device["id"]
        on = vlan.source(ctx, bridge_id, in_port, frame)
        static = links(ctx.view, bridge_id).by_segment.get(on, {})
        src = frame.packet.eth_src.lower()
        if not is_multicast(src) and src not in static:
            changed = ctx.state.macs.learn(bridge_id, src, on, in_port["id"])
            ctx.learned(MacLearning(bridge_id, src, on, in_port["id"]))
            if changed:
                ctx.trace(frame, f"learned {src}{_on(on)} behind port {in_port['id']}")
        else:
            ctx.read(frame, "eth_src")  # not learned: sources that are must reach the agent

        admitted = admit(ctx, ctx.filters.pre(ctx, device, in_port, frame),
                         "dropped by the inbound filters")
        if admitted is None:
            return
        frame = admitted
        tagged = vlan.push(ctx, in_port, frame)
        if tagged is None:
            return
        frame = tagged
        if not is_multicast(src) and src not in static and not is_interior(in_port):
            # only what the filters let in (anti-spoofing chains) teaches addresses
            bridge_arp.learn(ctx, bridge_id, in_port, frame)

        ctx.read(frame, "eth_dst")
        dst = frame.packet.eth_dst.lower()
        if is_multicast(dst):
            if (dst == BROADCAST_MAC and on is None
                    and self._arp_suppressed(ctx, device, in_port, frame)):
                return
            if dst == vlan.BPDU_MAC:
                ctx.trace(frame, f"spanning tree BPDU{_on(on)}: flooding to the trunks")
            else:
                ctx.trace(frame, f"{dst}{_on(on)} is a group address: flooding")
            self._flood(ctx, device, in_port, frame, on)
            return
        if dst in static:
            port, router_port = static[dst]
            ctx.tag(port["id"], router_port["id"])
            ctx.trace(frame, f"{dst} is router port {router_port['id']}: to port {port['id']}")
            self._forward(ctx, device, port, frame)
            return

        ctx.tag(mac_tag(bridge_id, dst))
        learned = ctx.view.get("port", ctx.state.macs.get(bridge_id, dst, on))
        if (learned is None or learned.get("deviceId") != bridge_id
                or not vlan.reaches(learned, on)):
            ctx.trace(frame, f"{dst}{_on(on)} is not learned: flooding")
            self._flood(ctx, device, in_port, frame, on)
        elif learned["id"] == in_port["id"]:
            ctx.tag(learned["id"])
            ctx.trace(frame, f"{dst}{_on(on)} is behind the ingress port: dropping")
        else:
            ctx.trace(frame, f"{dst}{_on(on)} is behind port {learned['id']}")
            self._forward(ctx, device, learned, frame)

    def _arp_suppressed(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> bool:
        """Whether a broadcast ARP request for a known address was handled without a flood."""
        packet = frame.packet
        ctx.read(frame, "eth_type")
        if packet.eth_type != ETH_ARP:
            return False
        ctx.read(frame, "arp_op")
        if packet.arp_op != ARP_REQUEST:
            return False
        ctx.read(frame, "arp_spa", "arp_tpa")
        tpa = packet.arp_tpa
        if not tpa or packet.arp_spa == tpa:
            return False  # gratuitous: every port hears it
        seg = segment(in_port)
        linked = list(links(ctx.view, device["id"]).by_segment.get(seg, {}).values())
        for port, router_port in linked:
            if router_port.get("portAddress") == tpa:
                ctx.tag(port["id"], router_port["id"])
                ctx.trace(frame, f"ARP request for {tpa}, router port {router_port['id']}:"
                          f" to port {port['id']} only")
                self._forward(ctx, device, port, frame)
                return True
        mac = known_address(ctx, device["id"], tpa)
        if mac is None:
            mac = bridge_arp.address(ctx, device["id"], seg, tpa)
        if mac is None:
            mac = _neighbour(ctx, device["id"], seg, linked, tpa)
        if mac is None:
            return False
        ctx.read(frame, "eth_src", "arp_sha")
        if mac == (packet.arp_sha or packet.eth_src).lower():
            ctx.trace(frame, f"ARP request for {tpa} from its owner: flooding")
            return False
        ctx.trace(frame, f"ARP request for {tpa}: replying with {mac}")
        ctx.answer_arp(frame, in_port, mac)
        return True

    def _flood(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame,
               on: int | None) -> None:
        for port in ctx.view.ports_of(device["id"]):
            if port["id"] != in_port["id"] and vlan.reaches(port, on):
                self._forward(ctx, device, port, frame)

    def _forward(self, ctx: Context, device: Obj, port: Obj, frame: Frame) -> None:
        ctx.tag(port["id"])
        frame = vlan.pop(ctx, port, frame)
        passed = admit(ctx, ctx.filters.post(ctx, device, port, frame),
                       f"dropped by the outbound filters of port {port['id']}")
        if passed is not None:
            ctx.leave(port, passed)


def known_addresses(view: TopologyView, bridge_id: str) -> Mapping[str, str]:
    """IPv4 -> MAC of the addresses a bridge knows without hearing them: the hosts and
    servers of its enabled DHCP subnets (a change to them is a change to the bridge)."""
    return dhcp.of_bridge(view, bridge_id).addresses


def known_address(ctx: Context, bridge_id: str, ip: str) -> str | None:
    """The MAC of ``ip`` as bridge ``bridge_id`` knows it without hearing it (see
    :func:`known_addresses`); the decision depends on the bridge."""
    ctx.tag(bridge_id)
    return known_addresses(ctx.view, bridge_id).get(ip)


def _neighbour(ctx: Context, bridge_id: str, vlan: int | None, linked: list[RouterLink],
               ip: str) -> str | None:
    """The MAC of ``ip`` as a router linked on the segment learned it, if that MAC is also
    learned on the segment (tags the entries the answer depends on)."""
    address = ipaddress.IPv4Address(ip)
    for _, router_port in linked:
        try:
            net = ipaddress.IPv4Network(
                f"{router_port['portAddress']}/{router_port['networkLength']}", strict=False)
        except (KeyError, ValueError, TypeError):
            continue
        if address not in net:
            continue
        router_id = router_port.get("deviceId") or ""
        ctx.tag(arp_tag(router_id, ip))
        mac = ctx.state.arps.get(router_id, ip)
        if mac is None:
            continue
        mac = mac.lower()
        ctx.tag(mac_tag(bridge_id, mac))
        port = ctx.view.get("port", ctx.state.macs.get(bridge_id, mac, vlan))
        if port is not None and port.get("deviceId") == bridge_id and segment(port) == vlan:
            return mac
    return None


def _on(vlan: int | None) -> str:
    return "" if vlan is None else f" (vlan {vlan})"
