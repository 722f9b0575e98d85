"""The hook where rule chains are evaluated.

Devices call it at two points, and only there:

- ``pre(ctx, device, in_port, frame)`` when a packet enters ``device`` through ``in_port``, before
  the device decides anything (after a router's L2 checks and ARP handling, which chains do not
  see): the port's inbound chain, then the device's inbound chain (a router's pre-routing).
- ``post(ctx, device, out_port, frame)`` when the device has chosen ``out_port``: the device's
  outbound chain (a router's post-routing, before the next hop's MAC is resolved), then the
  port's outbound chain. A bridge flooding a frame calls it once per port.

Each returns a :class:`~ryu_midonet.sim.core.context.Filtered`: the verdict
(:mod:`.verdicts`) and the frame to continue with (chains may rewrite it, e.g. NAT, through
:meth:`Frame.set`); devices act on it through :func:`admit`. Chains record what they depend
on through ``ctx`` (fields read, chain and rule ids as tags) like devices do. The frame tells
which port the current device was entered by (``Frame.in_port``), which outbound chains also
see.

The protocol is :class:`~ryu_midonet.sim.core.context.Filters`. The simulator's default is
:class:`ryu_midonet.sim.rules.chains.ChainFilters`, which evaluates the topology's chains;
:class:`AcceptAll` ignores them.
"""

from __future__ import annotations

from typing import assert_never

from ryu_midonet.sim.core.context import Context, Filtered, Filters, Frame
from ryu_midonet.sim.core.verdicts import ACCEPT, Accept, Drop, Mirror, Redirect, Reject
from ryu_midonet.types import Obj

__all__ = ["AcceptAll", "Filters", "admit"]


def admit(ctx: Context, filtered: Filtered, dropped: str) -> Frame | None:
    """The frame the device goes on with, None when it stops here; ``dropped`` is traced
    when the filters dropped the packet. A redirect sends the packet out of its port and
    stops the device; a mirror sends a copy there and lets the packet go on."""
    verdict, frame = filtered.verdict, filtered.frame
    match verdict:
        case Accept():
            return frame
        case Drop() | Reject():
            ctx.trace(frame, dropped)
            return None
        case Redirect(port_id):
            _divert(ctx, frame, port_id, "redirected")
            return None
        case Mirror(port_id):
            _divert(ctx, frame, port_id, "mirrored")
            return frame
        case _:
            assert_never(verdict)


def _divert(ctx: Context, frame: Frame, port_id: str, what: str) -> None:
    port = ctx.view.get("port", port_id)
    ctx.tag(port_id)
    if port is None:
        ctx.trace(frame, f"{what} to missing port {port_id}: dropping")
        return
    ctx.trace(frame, f"{what} to port {port_id}")
    ctx.leave(port, frame)


class AcceptAll:
    """No chains: every packet passes unchanged."""

    def pre(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> Filtered:
        return Filtered(ACCEPT, frame)

    def post(self, ctx: Context, device: Obj, out_port: Obj, frame: Frame) -> Filtered:
        return Filtered(ACCEPT, frame)
