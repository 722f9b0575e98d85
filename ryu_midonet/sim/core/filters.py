"""The hook where rule chains are evaluated.

Devices call it at two points, and only there:

- ``pre(ctx, device, in_port, frame)`` when a packet enters ``device`` through ``in_port``, before
  the device decides anything (after a router's L2 checks and ARP handling, which chains do not
  see): the port's inbound chain, then the device's inbound chain (a router's pre-routing).
- ``post(ctx, device, out_port, frame)`` when the device has chosen ``out_port``: the device's
  outbound chain (a router's post-routing, before the next hop's MAC is resolved), then the
  port's outbound chain. A bridge flooding a frame calls it once per port.

Each returns the frame to continue with (chains may rewrite it, e.g. NAT, through
:meth:`Frame.set`) or None to drop it. Chains record what they depend on through ``ctx`` (fields
read, chain and rule ids as tags) like devices do. The frame tells which port the current device
was entered by (``Frame.in_port``), which outbound chains also see.

The protocol is :class:`~ryu_midonet.sim.core.context.Filters`. The simulator's default is
:class:`ryu_midonet.sim.rules.chains.ChainFilters`, which evaluates the topology's chains;
:class:`AcceptAll` ignores them.
"""

from __future__ import annotations

from ryu_midonet.sim.core.context import Context, Filters, Frame
from ryu_midonet.types import Obj

__all__ = ["AcceptAll", "Filters"]

class AcceptAll:
    """No chains: every packet passes unchanged."""

    def pre(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> Frame | None:
        return frame

    def post(self, ctx: Context, device: Obj, out_port: Obj, frame: Frame) -> Frame | None:
        return frame
