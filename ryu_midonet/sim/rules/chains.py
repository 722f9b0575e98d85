"""Rule chains: evaluation, and :class:`ChainFilters`, the simulator's default filters.

Where chains run, in the order a packet meets them in a device (:mod:`.filters`): the ingress
port's inbound chain, the device's inbound chain (pre-bridging / pre-routing), the forwarding
decision, the device's outbound chain (post-routing), the egress port's outbound chain. Inbound
chains see the ingress port; outbound chains see the ingress and the egress port.

A chain runs its rules in list order (``chain.ruleIds``); rules whose condition
(:mod:`.conditions`) holds act as their type says (:mod:`.kinds`, one module per type; a type
with no module is an error: the packet is dropped, the trace and the log say why):

- ``accept``: stop, accept; ``drop``: stop, drop silently; ``reject``: stop, drop, and a router
  answers the sender with ICMP destination unreachable, communication administratively
  prohibited (code 13), from the port the packet entered the router by (a bridge has no
  address to answer from: it only drops);
- ``continue``: the next rule; ``return``: back to the calling chain, which goes on with the
  rule after its jump (at the top: the end of the chain);
- ``jump``: run the target chain; if it returns or ends, go on after the jump. A jump to a
  chain already being run drops the packet; a jump to a missing chain is ignored;
- ``dnat``/``snat``/``rev_dnat``/``rev_snat`` (:mod:`.nat`): translate, then act as the rule's
  ``flowAction`` (accept, continue or return; default accept). A reverse rule with no recorded
  translation, or a rule for a packet NAT does not handle, goes on with the next rule; no free
  translation drops the packet.

A router's inbound chains (its ingress port's and its own) that drop the first fragment of a
datagram answer the sender, as MidoNet does, with ICMP destination unreachable, fragmentation
needed (code 4), from the ingress port: without its first fragment the datagram can never be
reassembled. Later fragments are dropped silently (no ICMP error about them, RFC 1122), and so
are unfragmented packets. A drop at a router's inbound chain thus reads ``ip_frag``; the
answered first fragments are not cached, so each one is answered.

A chain's outcome (:mod:`.outcomes`) becomes the filters' verdict: continue or return at the
top, like the end of a chain, accepts. Later rules see the packet as earlier rules rewrote it.
Every chain and rule looked at tags the decision (a change to one removes the flows built on
it); a missing chain or rule tags its id too, so creating it does.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ryu_midonet.sim.core import packets
from ryu_midonet.sim.core.context import Context, Filtered, Frame, Where
from ryu_midonet.sim.core.stages import Stage
from ryu_midonet.sim.core.verdicts import ACCEPT, DROP, REJECT, Accept, Drop, Reject, Verdict
from ryu_midonet.sim.rules.conditions import matches
from ryu_midonet.sim.rules.kinds import RULE_TYPES
from ryu_midonet.sim.rules.outcomes import CONTINUE, RETURN, Call, Continue, Outcome, Return
from ryu_midonet.types import Obj

__all__ = ["ACCEPT", "CONTINUE", "DROP", "REJECT", "RETURN", "ChainFilters", "run_chain"]

UNREACH_FILTER_PROHIBITED = 13

_log = logging.getLogger(__name__)


def run_chain(ctx: Context, chain_id: str, where: Where, frame: Frame,
              stack: tuple[str, ...] = ()) -> tuple[Outcome, Frame]:
    """The outcome of a chain (a verdict, CONTINUE or RETURN) and the frame after."""
    ctx.tag(chain_id)
    chain = ctx.view.get("chain", chain_id)
    if chain is None:
        ctx.trace(frame, f"chain {chain_id} does not exist: ignored", stage=where.stage)
        return CONTINUE, frame
    call = Call((*stack, chain_id), run_chain)
    for rule_id in chain.get("ruleIds") or ():
        ctx.tag(rule_id)
        rule = ctx.view.get("rule", rule_id)
        if rule is None or not matches(ctx, rule, where, frame):
            continue
        outcome, frame = _act(ctx, rule, where, frame, call)
        if not isinstance(outcome, Continue):
            return outcome, frame
    return CONTINUE, frame


def _act(ctx: Context, rule: Obj, where: Where, frame: Frame,
         call: Call) -> tuple[Outcome, Frame]:
    action = RULE_TYPES.get(rule["type"])
    if action is None:
        return _unknown(ctx, rule, where, frame, call)
    return action(ctx, rule, where, frame, call)


def _unknown(ctx: Context, rule: Obj, where: Where, frame: Frame,
             call: Call) -> tuple[Outcome, Frame]:
    """A rule of a type this simulator does not implement: an error, and the packet dropped.

    The store only keeps known types, so this is a store written by a newer version. Passing
    the rule over could let through what it was meant to stop. The drop is cached (the rule's
    id tags it), so the log gets one line per flow, not one per packet.
    """
    _log.error("%s matched, but rule type %r is not implemented: dropping the packet",
               call.label(rule), rule["type"])
    ctx.trace(frame, f"{call.label(rule)} matched: error, unknown rule type: drop",
              stage=where.stage, rule=rule["id"])
    return DROP, frame


class ChainFilters:
    """The :class:`~ryu_midonet.sim.core.context.Filters` that evaluate the topology's chains."""

    def pre(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> Filtered:
        return self._through(ctx, ((Stage.PORT_IN, in_port.get("inboundFilterId")),
                                   (Stage.PRE, device.get("inboundFilterId"))),
                             Where(device, in_port), frame, inbound=True)

    def post(self, ctx: Context, device: Obj, out_port: Obj, frame: Frame) -> Filtered:
        return self._through(ctx, ((Stage.POST, device.get("outboundFilterId")),
                                   (Stage.PORT_OUT, out_port.get("outboundFilterId"))),
                             Where(device, ctx.view.get("port", frame.in_port), out_port), frame)

    def _through(self, ctx: Context, chains: tuple[tuple[Stage, str | None], ...], where: Where,
                 frame: Frame, inbound: bool = False) -> Filtered:
        """Run the chains that are set, in order, until one decides other than accept."""
        for stage, chain_id in chains:
            if chain_id:
                filtered = self._filter(ctx, chain_id, replace(where, stage=stage), frame,
                                        inbound)
                if not isinstance(filtered.verdict, Accept):
                    return filtered
                frame = filtered.frame
        return Filtered(ACCEPT, frame)

    def _filter(self, ctx: Context, chain_id: str, where: Where, frame: Frame,
                inbound: bool) -> Filtered:
        outcome, frame = run_chain(ctx, chain_id, where, frame)
        verdict: Verdict = ACCEPT if isinstance(outcome, Continue | Return) else outcome
        if isinstance(verdict, Reject):
            _reject(ctx, where, frame)
        elif isinstance(verdict, Drop) and inbound:
            _frag_needed(ctx, where, frame)
        return Filtered(verdict, frame)


def _reject(ctx: Context, where: Where, frame: Frame) -> None:
    """ICMP administratively prohibited back to the sender, from a router's ingress port."""
    port, entered = where.in_port, frame.entered or frame.packet
    if port is None or port.get("type") != "Router" or not port.get("portAddress"):
        return
    if not packets.may_answer_with_error(entered):
        ctx.trace(frame, "no ICMP error for this packet")
        return
    ctx.emit(frame, port, packets.icmp_error(entered, packets.ICMP_UNREACH,
                                             UNREACH_FILTER_PROHIBITED, port["portAddress"],
                                             port["portMac"]))


def _frag_needed(ctx: Context, where: Where, frame: Frame) -> None:
    """ICMP fragmentation needed back to the sender of a first fragment a router dropped."""
    port, entered = where.in_port, frame.entered or frame.packet
    if port is None or port.get("type") != "Router" or not port.get("portAddress"):
        return
    ctx.read(frame, "ip_frag")
    if entered.ip_frag != "first":
        return
    ctx.uncacheable()
    if not packets.may_answer_with_error(entered):
        ctx.trace(frame, "no ICMP error for this packet")
        return
    ctx.trace(frame, "first fragment dropped: ICMP fragmentation needed")
    ctx.emit(frame, port, packets.icmp_error(entered, packets.ICMP_UNREACH,
                                             packets.UNREACH_FRAG_NEEDED, port["portAddress"],
                                             port["portMac"]))
