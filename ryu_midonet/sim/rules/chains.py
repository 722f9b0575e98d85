"""Rule chains: evaluation, and :class:`ChainFilters`, the simulator's default filters.

Where chains run, in the order a packet meets them in a device (:mod:`.filters`): the ingress
port's inbound chain, the device's inbound chain (pre-bridging / pre-routing), the forwarding
decision, the device's outbound chain (post-routing), the egress port's outbound chain. Inbound
chains see the ingress port; outbound chains see the ingress and the egress port.

A chain runs its rules in list order (``chain.ruleIds``); rules whose condition
(:mod:`.conditions`) holds act:

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

The end of a chain accepts. Later rules see the packet as earlier rules rewrote it. Every chain
and rule looked at tags the decision (a change to one removes the flows built on it); a missing
chain or rule tags its id too, so creating it does.
"""

from __future__ import annotations

from ryu_midonet.sim.core import packets
from ryu_midonet.sim.core.context import Context, Frame, Where
from ryu_midonet.sim.rules import nat
from ryu_midonet.sim.rules.conditions import matches
from ryu_midonet.types import Obj

ACCEPT, DROP, REJECT, CONTINUE, RETURN = "accept", "drop", "reject", "continue", "return"
UNREACH_FILTER_PROHIBITED = 13


def run_chain(ctx: Context, chain_id: str, where: Where, frame: Frame,
              stack: tuple[str, ...] = ()) -> tuple[str, Frame]:
    """The verdict of a chain (ACCEPT, DROP, REJECT, CONTINUE or RETURN) and the frame after."""
    ctx.tag(chain_id)
    chain = ctx.view.get("chain", chain_id)
    if chain is None:
        ctx.trace(frame, f"chain {chain_id} does not exist: ignored")
        return CONTINUE, frame
    stack = (*stack, chain_id)
    for rule_id in chain.get("ruleIds") or ():
        ctx.tag(rule_id)
        rule = ctx.view.get("rule", rule_id)
        if rule is None or not matches(ctx, rule, where, frame):
            continue
        verdict, frame = _act(ctx, rule, where, frame, stack)
        if verdict != CONTINUE:
            return verdict, frame
    return CONTINUE, frame


def _act(ctx: Context, rule: Obj, where: Where, frame: Frame,
         stack: tuple[str, ...]) -> tuple[str, Frame]:
    kind = rule["type"]
    label = f"chain {stack[-1]} rule {rule['id']} ({kind})"
    if kind in (ACCEPT, DROP, REJECT, RETURN, CONTINUE):
        ctx.trace(frame, f"{label} matched: {kind}")
        return kind, frame
    if kind == "jump":
        target = rule.get("jumpChainId")
        if target in stack:
            ctx.trace(frame, f"{label} matched: jump to {target}, already being run: drop")
            return DROP, frame
        if not target:
            return CONTINUE, frame
        ctx.trace(frame, f"{label} matched: jump to {target}")
        verdict, frame = run_chain(ctx, target, where, frame, stack)
        return (CONTINUE, frame) if verdict in (CONTINUE, RETURN) else (verdict, frame)
    if kind in nat.NAT_TYPES or kind in nat.REVERSE_TYPES:
        ctx.trace(frame, f"{label} matched")
        status, frame = nat.translate(ctx, rule, where, frame)
        if status == nat.FAILED:
            ctx.uncacheable()  # a translation may free up: ask again for the next packet
            return DROP, frame
        if status == nat.SKIPPED:
            return CONTINUE, frame
        return rule.get("flowAction") or ACCEPT, frame
    return CONTINUE, frame  # a type this simulator does not know


class ChainFilters:
    """The :class:`~ryu_midonet.sim.core.filters.Filters` that evaluate the topology's chains."""

    def pre(self, ctx: Context, device: Obj, in_port: Obj, frame: Frame) -> Frame | None:
        return self._through(ctx, (in_port.get("inboundFilterId"),
                                   device.get("inboundFilterId")),
                             Where(device, in_port), frame, inbound=True)

    def post(self, ctx: Context, device: Obj, out_port: Obj, frame: Frame) -> Frame | None:
        return self._through(ctx, (device.get("outboundFilterId"),
                                   out_port.get("outboundFilterId")),
                             Where(device, ctx.view.get("port", frame.in_port), out_port), frame)

    def _through(self, ctx: Context, chain_ids: tuple[str | None, ...], where: Where,
                 frame: Frame, inbound: bool = False) -> Frame | None:
        """Run the chains that are set, in order; None as soon as one drops the packet."""
        for chain_id in chain_ids:
            if chain_id:
                passed = self._filter(ctx, chain_id, where, frame, inbound)
                if passed is None:
                    return None
                frame = passed
        return frame

    def _filter(self, ctx: Context, chain_id: str, where: Where, frame: Frame,
                inbound: bool) -> Frame | None:
        verdict, frame = run_chain(ctx, chain_id, where, frame)
        if verdict == REJECT:
            _reject(ctx, where, frame)
        elif verdict == DROP and inbound:
            _frag_needed(ctx, where, frame)
        return None if verdict in (DROP, REJECT) else frame


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
