"""The virtual L2 switch: MAC learning, unicast to the learned port, flooding otherwise.

- The source MAC is learned behind the ingress port, keyed (mac, vlan) where vlan is the
  ingress port's ``vlanId`` (None for ports without one; frames' own VLAN tags are not used
  yet). Learning is a side effect, not an input of the decision: ``eth_src`` is not read; the
  entry goes to ``Result.learned``. As in MidoNet it happens before the inbound filters, so a
  frame a chain drops still teaches its source. Group (multicast) sources are not learned.
- MACs of router ports linked to the bridge are known without learning (like MidoNet's
  MAC -> logical port map): frames to them go straight to the linking port.
- A unicast destination learned on another port goes there; learned on the ingress port, the
  frame is dropped; unknown, or a group address (broadcast, multicast), the frame floods to
  every other port: exterior ports get a copy, interior ones carry it into their peer device.
  A flood caused by an unknown MAC is tagged with that MAC's entry, so learning it later
  removes the flood flow.
- The decision reads ``eth_dst`` only. The bridge answers nothing itself (no ARP proxy yet).
"""

from __future__ import annotations

from ryu_midonet.sim.context import Context, Frame
from ryu_midonet.sim.model import MacLearning
from ryu_midonet.sim.packets import is_multicast
from ryu_midonet.sim.state import mac_tag
from ryu_midonet.sim.topology import Obj, TopologyView


def router_macs(view: TopologyView, bridge_id: str) -> dict[str, tuple[Obj, Obj]]:
    """MAC -> (bridge port, router port) for the router ports linked to the bridge."""
    out: dict[str, tuple[Obj, Obj]] = {}
    for port in view.ports_of(bridge_id):
        peer = view.get("port", port.get("peerId"))
        if peer is not None and peer.get("type") == "Router" and peer.get("portMac"):
            out[peer["portMac"].lower()] = (port, peer)
    return out


class Bridge:
    kind = "bridge"

    def process(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> None:
        bridge_id = device["id"]
        vlan = in_port.get("vlanId")
        static = router_macs(ctx.view, bridge_id)
        src = frame.packet.eth_src.lower()
        if not is_multicast(src) and src not in static:
            changed = ctx.state.macs.learn(bridge_id, src, vlan, in_port["id"])
            ctx.learned(MacLearning(bridge_id, src, vlan, in_port["id"]))
            if changed:
                ctx.trace(frame, f"learned {src}{_on(vlan)} behind port {in_port['id']}")

        admitted = ctx.filters.pre(ctx, device, in_port, frame)
        if admitted is None:
            ctx.trace(frame, "dropped by the inbound filters")
            return
        frame = admitted

        ctx.read(frame, "eth_dst")
        dst = frame.packet.eth_dst.lower()
        if is_multicast(dst):
            ctx.trace(frame, f"{dst} is a group address: flooding")
            self._flood(ctx, device, in_port, frame)
            return
        if dst in static:
            port, router_port = static[dst]
            ctx.tag(port["id"], router_port["id"])
            ctx.trace(frame, f"{dst} is router port {router_port['id']}: to port {port['id']}")
            self._forward(ctx, device, port, frame)
            return

        ctx.tag(mac_tag(bridge_id, dst))
        port_id = ctx.state.macs.get(bridge_id, dst, vlan)
        port = ctx.view.get("port", port_id)
        if port is None or port.get("deviceId") != bridge_id:
            ctx.trace(frame, f"{dst}{_on(vlan)} is not learned: flooding")
            self._flood(ctx, device, in_port, frame)
        elif port["id"] == in_port["id"]:
            ctx.tag(port["id"])
            ctx.trace(frame, f"{dst}{_on(vlan)} is behind the ingress port: dropping")
        else:
            ctx.trace(frame, f"{dst}{_on(vlan)} is behind port {port['id']}")
            self._forward(ctx, device, port, frame)

    def _flood(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> None:
        for port in ctx.view.ports_of(device["id"]):
            if port["id"] != in_port["id"]:
                self._forward(ctx, device, port, frame)

    def _forward(self, ctx: Context, device: Obj, port: Obj, frame: Frame) -> None:
        passed = ctx.filters.post(ctx, device, port, frame)
        if passed is None:
            ctx.tag(port["id"])
            ctx.trace(frame, f"dropped by the outbound filters of port {port['id']}")
            return
        ctx.leave(port, passed)


def _on(vlan: int | None) -> str:
    return "" if vlan is None else f" (vlan {vlan})"
