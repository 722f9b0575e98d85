"""A bridge's ARP table (MidoNet's ``Ip4MacPair``): the IPv4 addresses its VMs use, learned
from the ARP they send, for the bridge to answer ARP requests for them locally.

- Learning: an ARP request or reply that enters the bridge on an exterior port, and that
  the port's and the bridge's inbound filters let in (an anti-spoofing chain keeps a forged
  sender out of the table), teaches
  ``arp_spa`` -> ``arp_sha`` when the sender MAC is the frame's source, is not a group
  address, and the sender address is a unicast one (not 0.0.0.0: a duplicate address probe
  teaches nothing). Gratuitous announcements teach too: that is how a moved address is heard.
  To see such frames the bridge reads ``eth_type`` of every frame entering on an exterior port
  (a flow of other traffic does not take ARP); for ARP also ``arp_op``, ``arp_spa``,
  ``arp_sha`` and ``eth_src``. The decision is tagged with the entry, so that when it expires
  the flows built on it go and the VM's next ARP teaches it again.
- Answering (:func:`address`): an entry counts only while its MAC is learned behind a port of
  the asking port's segment; the answer depends on both entries (tagged), so it follows a VM
  that moves and stops when either entry goes.
"""

from __future__ import annotations

import ipaddress

from ryu_midonet.sim.core.context import Context, Frame
from ryu_midonet.sim.core.model import ETH_ARP
from ryu_midonet.sim.core.packets import ARP_REPLY, ARP_REQUEST, is_multicast
from ryu_midonet.sim.state import ip4mac_tag, mac_tag
from ryu_midonet.types import Obj


def learn(ctx: Context, bridge_id: str, in_port: Obj, frame: Frame) -> None:
    """Learn the sender of an ARP frame entering on exterior port ``in_port``."""
    packet = frame.packet
    ctx.read(frame, "eth_type")
    if packet.eth_type != ETH_ARP:
        return
    ctx.read(frame, "arp_op", "arp_spa", "arp_sha", "eth_src")
    if packet.arp_op not in (ARP_REQUEST, ARP_REPLY) or not packet.arp_spa:
        return
    sha, ip = (packet.arp_sha or "").lower(), packet.arp_spa
    if not sha or sha != packet.eth_src.lower() or is_multicast(sha) or not _unicast(ip):
        return
    ctx.tag(ip4mac_tag(bridge_id, ip))
    if ctx.state.ip4macs.learn(bridge_id, ip, sha):
        ctx.trace(frame, f"learned {ip} at {sha} (ARP table)")


def address(ctx: Context, bridge_id: str, vlan: int | None, ip: str) -> str | None:
    """The MAC of ``ip`` in the bridge's ARP table, if that MAC is learned on segment ``vlan``
    (tags the entries the answer depends on)."""
    ctx.tag(ip4mac_tag(bridge_id, ip))
    mac = ctx.state.ip4macs.get(bridge_id, ip)
    if mac is None:
        return None
    ctx.tag(mac_tag(bridge_id, mac))
    port = ctx.view.get("port", ctx.state.macs.get(bridge_id, mac, vlan))
    if port is None or port.get("deviceId") != bridge_id or (port.get("vlanId") or None) != vlan:
        return None
    return mac


def _unicast(ip: str) -> bool:
    try:
        address_ = ipaddress.IPv4Address(ip)
    except ValueError:
        return False
    return not (address_.is_unspecified or address_.is_multicast
                or address_ == ipaddress.IPv4Address("255.255.255.255"))
