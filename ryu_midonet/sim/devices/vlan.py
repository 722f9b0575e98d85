"""VLAN-aware bridges (MidoNet's VAB, the native L2 gateway): tags pushed and popped.

A bridge is VLAN-aware as soon as one of its ports has a ``vlanId`` (the API keeps VLAN ids
unique within a bridge, 1..4094; VLAN id 0 counts as none). Such a port is a *VLAN port*,
normally interior and linked to a VLAN-unaware bridge (a VUB); the other ports are *trunks*,
normally exterior and bound to NICs facing physical switches.

- The VLAN a frame is on in the bridge (:func:`source`): its ingress port's VLAN for a VLAN
  port; for a trunk, the frame's own 802.1Q tag (``vlan_vid`` is read; untagged: None).
  MAC learning is keyed (mac, that VLAN), so the same MAC may sit on several VLANs and a MAC
  heard on the other trunk is learned there.
- A frame entering by the vlan-*v* port gets tag *v* pushed (:func:`push`); one already
  tagged is dropped (no double tagging).
- A frame only reaches ports of its VLAN (:func:`reaches`): trunks (which carry every VLAN,
  and untagged frames) and the VLAN port of its tag. Leaving by a VLAN port its tag is popped
  (:func:`pop`). So a frame from a trunk tagged *v* goes untagged to the vlan-*v* port (and
  tagged to the other trunks when flooded); a frame from a vlan-*v* port goes tagged *v* to
  the trunk its destination was learned behind, or floods to every trunk; an untagged frame
  on a trunk, or one tagged with a VLAN no port has, is bridged between trunks only, as
  MidoNet does -- which is how the physical switches' spanning tree BPDUs
  (:data:`BPDU_MAC`) cross the bridge, so that one of two switches blocks its trunk.
- VLANs never leak: no path leads from a frame of one VLAN to a port of another.

In a VLAN-unaware bridge every frame is on VLAN None and frames' own tags are carried
unchanged (nothing is read, pushed or popped).
"""

from __future__ import annotations

from ryu_midonet.sim.core.context import Context, Frame
from ryu_midonet.sim.core.topology import TopologyView
from ryu_midonet.types import Obj

BPDU_MAC = "01:80:c2:00:00:00"  # IEEE 802.1D spanning tree


def segment(port: Obj) -> int | None:
    """The VLAN of a bridge port (None: a trunk, or a port of a VLAN-unaware bridge)."""
    return port.get("vlanId") or None


def aware(view: TopologyView, bridge_id: str) -> bool:
    """Whether the bridge has a VLAN port (for the view's current topology)."""
    return view.derived("bridge-vlan-aware", bridge_id, lambda: any(
        segment(p) is not None for p in view.ports_of(bridge_id)))


def source(ctx: Context, bridge_id: str, in_port: Obj, frame: Frame) -> int | None:
    """The VLAN ``frame`` is on in the bridge, entering by ``in_port``."""
    vlan = segment(in_port)
    if vlan is not None or not aware(ctx.view, bridge_id):
        return vlan
    ctx.read(frame, "vlan_vid")
    return frame.packet.vlan_vid


def push(ctx: Context, in_port: Obj, frame: Frame) -> Frame | None:
    """``frame`` with its ingress VLAN port's tag pushed (None: dropped, already tagged);
    unchanged from a trunk."""
    vlan = segment(in_port)
    if vlan is None:
        return frame
    ctx.read(frame, "vlan_vid")
    if frame.packet.vlan_vid is not None:
        ctx.trace(frame, f"frame already tagged {frame.packet.vlan_vid} entering VLAN port"
                  f" {in_port['id']}: dropping")
        return None
    ctx.trace(frame, f"from VLAN port {in_port['id']}: pushing VLAN {vlan}")
    return frame.set(vlan_vid=vlan)


def reaches(port: Obj, vlan: int | None) -> bool:
    """Whether a frame on ``vlan`` may leave by ``port`` (a trunk, or the port of its VLAN)."""
    own = segment(port)
    return own is None or own == vlan


def pop(ctx: Context, port: Obj, frame: Frame) -> Frame:
    """``frame`` as it leaves by ``port``: untagged out of a VLAN port."""
    vlan = segment(port)
    if vlan is None or frame.packet.vlan_vid is None:
        return frame
    ctx.trace(frame, f"to VLAN port {port['id']}: popping VLAN {vlan}")
    return frame.set(vlan_vid=None)
