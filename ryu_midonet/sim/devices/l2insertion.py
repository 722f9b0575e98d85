"""L2 insertion: service functions in the path of a protected MAC on an inspected port.

:class:`InsertionFilters` wraps the rule-chain filters (:class:`~.context.Filters`) and acts
after them, so a port's own filters run first:

- A frame entering the topology at an inspected port ``P`` from the protected MAC
  (``eth_src``), once ``P``'s inbound filters accept it, goes out of the service port of the
  first insertion of ``(P, mac)`` instead (in ``position`` order, ties by service port id).
- A frame the device would send out of ``P`` to the protected MAC (``eth_dst``), once ``P``'s
  outbound filters accept it, goes out of that first service port instead.
- A frame coming back from a service function at its service port ``S`` is insertion traffic
  when it belongs to an insertion served by ``S``: with ``vlan`` > 0 it carries that VLAN id
  and the direction's priority (PCP 1: from the protected MAC, PCP 2: to it) and is popped;
  with ``vlan`` 0 it is untagged and from or to the MAC. It goes on to the next insertion's
  service port, or past the last one back to where it was going: into ``P``'s device as if it
  had entered there (from the MAC), or out of ``P`` (to the MAC). Anything else entering or
  leaving a service port is dropped.
- On the way into a service port a frame is tagged with the insertion's ``vlan`` (when > 0)
  and the direction's PCP.
- A service port whose link is down (port down, unbound, or ``linkUp`` false: the link state
  its host's agent reports) is skipped when its insertion is ``failOpen``; otherwise the frame is
  dropped there.

Every redirect, hand-back and drop is traced; the decision reads the MAC, VLAN id and PCP
fields it looked at and is tagged with the insertions and ports it used.
"""

from __future__ import annotations

from dataclasses import dataclass

from ryu_midonet.sim.core.context import Context, Filtered, Filters, Frame
from ryu_midonet.sim.core.stages import Stage
from ryu_midonet.sim.core.topology import TopologyView
from ryu_midonet.sim.core.verdicts import DROP, Accept, Redirect
from ryu_midonet.types import Obj

KIND = "l2Insertion"
PCP_FROM = 1  # a frame from the protected MAC
PCP_TO = 2  # a frame to the protected MAC


@dataclass(frozen=True)
class Index:
    """The insertions by inspected port and by service port, each list in chain order."""

    by_port: dict[str, list[Obj]]
    by_srv: dict[str, list[Obj]]


def index(view: TopologyView) -> Index:
    """The view's insertions, indexed (kept until the topology changes)."""

    def build() -> Index:
        ordered = sorted(view.all_of(KIND).values(),
                         key=lambda i: (i["position"], i["srvPortId"], i["id"]))
        by_port: dict[str, list[Obj]] = {}
        by_srv: dict[str, list[Obj]] = {}
        for ins in ordered:
            by_port.setdefault(ins["portId"], []).append(ins)
            by_srv.setdefault(ins["srvPortId"], []).append(ins)
        return Index(by_port, by_srv)

    return view.derived(KIND, "index", build)


def link_up(port: Obj | None) -> bool:
    """Whether a service port can take frames: up, bound and its link not reported down."""
    return (port is not None and port.get("adminStateUp", True) is not False
            and bool(port.get("hostId")) and port.get("linkUp", True) is not False)


def chain(idx: Index, port_id: str, mac: str) -> list[Obj]:
    """The insertions of ``(port_id, mac)``, in order."""
    return [i for i in idx.by_port.get(port_id, []) if i["mac"] == mac]


class InsertionFilters:
    """The rule-chain filters, then L2 insertion's redirects (see the module)."""

    def __init__(self, inner: Filters) -> None:
        self.inner = inner

    def pre(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> Filtered:
        idx = index(ctx.view)
        served = idx.by_srv.get(in_port["id"])
        if served:
            ctx.tag(*(i["id"] for i in served))
            return self._returned(ctx, idx, in_port, frame, served)
        filtered = self.inner.pre(ctx, device, in_port, frame)
        inspected = idx.by_port.get(in_port["id"])
        if not inspected or not isinstance(filtered.verdict, Accept):
            return filtered
        frame = filtered.frame
        ctx.tag(*(i["id"] for i in inspected))
        ctx.read(frame, "eth_src")
        mac = frame.packet.eth_src.lower()
        insertions = chain(idx, in_port["id"], mac)
        if not insertions or self._handed_back(ctx, insertions):
            return filtered
        return self._next(ctx, frame, insertions, -1, PCP_FROM, in_port, filtered)

    def post(self, ctx: Context, device: Obj, out_port: Obj, frame: Frame) -> Filtered:
        idx = index(ctx.view)
        served = idx.by_srv.get(out_port["id"])
        if served:
            ctx.tag(*(i["id"] for i in served))
            ctx.trace(frame, f"l2insertion: port {out_port['id']} is a service port, which "
                      "takes insertion traffic only: dropping", stage=Stage.PORT_OUT,
                      port=out_port["id"])
            return Filtered(DROP, frame)
        filtered = self.inner.post(ctx, device, out_port, frame)
        inspected = idx.by_port.get(out_port["id"])
        if not inspected or not isinstance(filtered.verdict, Accept):
            return filtered
        frame = filtered.frame
        ctx.tag(*(i["id"] for i in inspected))
        ctx.read(frame, "eth_dst")
        insertions = chain(idx, out_port["id"], frame.packet.eth_dst.lower())
        if not insertions:
            return filtered
        return self._next(ctx, frame, insertions, -1, PCP_TO, out_port, filtered)

    # -- the steps -----------------------------------------------------------------------------
    @staticmethod
    def _handed_back(ctx: Context, insertions: list[Obj]) -> bool:
        """Whether the frame entered the topology at a service port of ``insertions``: the
        last function handed it back, it goes where it was going."""
        ingress = ctx.session.ingress
        return ingress is not None and any(i["srvPortId"] == ingress["id"] for i in insertions)

    def _next(self, ctx: Context, frame: Frame, insertions: list[Obj], after: int, pcp: int,
              inspected: Obj, passed: Filtered | None) -> Filtered:
        """The frame goes to the first usable insertion past ``after``; past the last one,
        back to where it was going (``passed``: the filters' own verdict; None: it came back
        from a function and is handed to ``inspected``)."""
        for ins in insertions[after + 1:]:
            srv = ctx.view.get("port", ins["srvPortId"])
            ctx.tag(ins["srvPortId"])
            if link_up(srv):
                if ins["vlan"]:
                    frame = frame.set(vlan_vid=ins["vlan"], vlan_pcp=pcp)
                ctx.trace(frame, f"l2insertion {ins['id']}: to service port {ins['srvPortId']}"
                          + (f" tagged vlan {ins['vlan']} pcp {pcp}" if ins["vlan"] else ""),
                          port=inspected["id"])
                return Filtered(Redirect(ins["srvPortId"]), frame)
            if not ins["failOpen"]:
                ctx.trace(frame, f"l2insertion {ins['id']}: service port {ins['srvPortId']} is "
                          "down and the insertion is not fail-open: dropping")
                return Filtered(DROP, frame)
            ctx.trace(frame, f"l2insertion {ins['id']}: service port {ins['srvPortId']} is "
                      "down, skipped (fail-open)")
        if passed is not None:
            return passed
        if pcp == PCP_TO:
            ctx.trace(frame, f"l2insertion: past the last function, out of inspected port "
                      f"{inspected['id']}")
            return Filtered(Redirect(inspected["id"]), frame)
        ctx.trace(frame, f"l2insertion: past the last function, into the device of inspected "
                  f"port {inspected['id']}")
        ctx.enter(inspected, frame)
        return Filtered(DROP, frame)

    def _returned(self, ctx: Context, idx: Index, srv: Obj, frame: Frame,
                  served: list[Obj]) -> Filtered:
        """A frame entering at a service port: insertion traffic goes on, the rest drops."""
        ctx.read(frame, "vlan_vid", "eth_src", "eth_dst")
        packet = frame.packet
        if packet.vlan_vid is not None:
            ctx.read(frame, "vlan_pcp")
        for ins in served:
            mac = ins["mac"]
            if ins["vlan"]:
                if packet.vlan_vid != ins["vlan"] or packet.vlan_pcp not in (PCP_FROM, PCP_TO):
                    continue
                pcp = packet.vlan_pcp
                if (packet.eth_src if pcp == PCP_FROM else packet.eth_dst).lower() != mac:
                    continue
                frame = frame.set(vlan_vid=None, vlan_pcp=None)
            elif packet.vlan_vid is not None:
                continue
            elif packet.eth_src.lower() == mac:
                pcp = PCP_FROM
            elif packet.eth_dst.lower() == mac:
                pcp = PCP_TO
            else:
                continue
            inspected = ctx.view.get("port", ins["portId"])
            ctx.tag(ins["portId"])
            if inspected is None:
                break
            insertions = chain(idx, ins["portId"], mac)
            ctx.trace(frame, f"l2insertion {ins['id']}: back from service port {srv['id']} "
                      f"({'from' if pcp == PCP_FROM else 'to'} {mac})")
            return self._next(ctx, frame, insertions, insertions.index(ins), pcp, inspected,
                              None)
        ctx.trace(frame, f"l2insertion: port {srv['id']} is a service port and this is no "
                  "insertion traffic: dropping", stage=Stage.PORT_IN)
        return Filtered(DROP, frame)
