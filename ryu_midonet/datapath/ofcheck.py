"""Checks os-ken OpenFlow 1.3 flow-mods against the pipeline's table contracts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from os_ken.ofproto import nicira_ext
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from ryu_midonet.datapath import pipeline as p

ACTION_NAMES: dict[type, str] = {
    parser.OFPActionOutput: p.OUTPUT,
    parser.OFPActionSetField: p.SET_FIELD,
    parser.OFPActionDecNwTtl: p.DEC_NW_TTL,
    parser.OFPActionPushVlan: p.PUSH_VLAN,
    parser.OFPActionPopVlan: p.POP_VLAN,
    parser.NXActionCT: p.CT,
    parser.NXActionCTClear: p.CT_CLEAR,
    parser.OFPActionGroup: p.GROUP,
}


class NotUnderstood(ValueError):
    """A message, instruction, action or field that the checks and the fake switch do not
    model: refused rather than guessed at."""


def action_name(action: Any) -> str:
    """The OpenFlow name of an os-ken action, or :class:`NotUnderstood`."""
    name = next((ACTION_NAMES[k] for k in type(action).__mro__ if k in ACTION_NAMES), None)
    if name is None:
        raise NotUnderstood(f"action {action!r}")
    return name


def instructions(msg: Any) -> tuple[list[Any], int | None]:
    """The apply-actions and the goto table of a flow-mod (with :func:`meter_of`, the only
    instructions in use)."""
    actions: list[Any] = []
    goto = None
    for inst in msg.instructions:
        if isinstance(inst, parser.OFPInstructionActions) \
                and inst.type == ofp.OFPIT_APPLY_ACTIONS:
            actions += inst.actions
        elif isinstance(inst, parser.OFPInstructionGotoTable):
            goto = inst.table_id
        elif not isinstance(inst, parser.OFPInstructionMeter):
            raise NotUnderstood(f"instruction {inst!r}")
    return actions, goto


def meter_of(msg: Any) -> int | None:
    """The meter a flow-mod's packets go through, if any."""
    meters = [inst.meter_id for inst in msg.instructions
              if isinstance(inst, parser.OFPInstructionMeter)]
    if len(meters) > 1:
        raise NotUnderstood(f"{len(meters)} meter instructions in one flow")
    return meters[0] if meters else None


def flow_shape(msg: Any) -> p.FlowShape:
    """What an ``OFPFlowMod`` that adds a flow does, as the contracts see it."""
    actions, goto = instructions(msg)
    return p.FlowShape(
        table_id=msg.table_id, priority=msg.priority,
        match=frozenset(name for name, _ in msg.match.items()),
        actions=tuple(action_name(a) for a in actions),
        set_fields=frozenset(a.key for a in actions
                             if isinstance(a, parser.OFPActionSetField)),
        goto=goto,
        to_controller=any(isinstance(a, parser.OFPActionOutput)
                          and a.port == ofp.OFPP_CONTROLLER for a in actions),
        meter=meter_of(msg) is not None,
        recirculate=frozenset(a.recirc_table for a in actions
                              if isinstance(a, parser.NXActionCT)
                              and a.recirc_table != nicira_ext.NX_CT_RECIRC_NONE))


def check_flow_mod(msg: Any, tables: Mapping[int, p.TableContract] = p.TABLES) -> None:
    """Raise :class:`~.pipeline.FlowRefused` if ``msg`` adds a flow that breaks its table's
    contract (in ``tables``, the pipeline's by default); other messages pass."""
    if isinstance(msg, parser.OFPFlowMod) and msg.command == ofp.OFPFC_ADD:
        p.check(flow_shape(msg), tables)
