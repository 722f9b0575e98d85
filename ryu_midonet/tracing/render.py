"""The text of an offline trace: the path, the outcome and the flows, one pass at a time."""

from __future__ import annotations

from ryu_midonet.datapath.flows import Action, FlowSpec, Message, PacketOut
from ryu_midonet.sim.core.model import Output, Packet, Result, RewriteOp
from ryu_midonet.sim.core.topology import DictView
from ryu_midonet.sim.core.trace import TraceStep
from ryu_midonet.tracing.offline import OfflineTrace


def render(t: OfflineTrace, view: DictView) -> list[str]:
    """Every line of the trace."""
    lines = [f"packet: {describe(t.packet)}",
             f"ingress: port {t.port_id} on host {_host(view, t.host_id)}"]
    for p in t.passes:
        lines += ["", f"== {p.title} =="]
        lines += ["path:", *("  " + _step(s) for s in p.result.steps)]
        lines += ["chains and rules looked at:", *_consulted(p.result, view)]
        lines += ["outcome:", *("  " + x for x in outcome(p.result, view))]
        lines += [f"OpenFlow on host {_host(view, t.host_id)}:",
                  *("  " + x for x in _messages(p.messages, t.ports))]
    if t.ports:
        lines += ["", "port numbers above stand for:",
                  *(f"  {n}: {name}" for n, name in sorted(t.ports.items()))]
    return lines


def describe(packet: Packet) -> str:
    return " ".join(f"{k}={_value(k, v)}" for k, v in packet.headers().items())


def outcome(result: Result, view: DictView) -> list[str]:
    """Where the packet leaves (with its rewrites), or why it is dropped or held."""
    lines = [_output(o, view) for o in result.outputs]
    lines += [f"generates {describe(e.packet)} out of port {e.port_id}" for e in result.emits]
    lines += [f"held until router {w.router_id} resolves {w.ip} out of port {w.port_id}"
              for w in result.waiting]
    if result.ct_scope is not None and result.ct_return is None:
        lines.append(f"goes through the connection tracker (zone of {result.ct_scope}) and"
                     " is simulated again")
    elif not result.outputs and not result.waiting:
        lines.append(f"dropped: {drop_reason(result.steps)}")
    if not result.cacheable:
        lines.append("no flow: every such packet is simulated")
    return lines


def drop_reason(steps: list[TraceStep]) -> str:
    """The step that dropped the packet: the rule that decided, else the last decision."""
    for step in reversed(steps):
        if step.rule is not None:
            return step.decision
    decisions = [s.decision for s in steps if not s.decision.startswith("result:")]
    return decisions[-1] if decisions else "no step"


def _output(out: Output, view: DictView) -> str:
    port = view.get("port", out.port_id) or {}
    where = f"port {out.port_id} on host {_host(view, port.get('hostId'))}"
    rewrites = []
    for rw in out.rewrites:
        if rw.op is RewriteOp.SET and rw.field is not None:
            rewrites.append(f"{rw.field}={_value(rw.field, rw.value)}")
        elif rw.value is not None:
            rewrites.append(f"{rw.op}({rw.value})")
        else:
            rewrites.append(str(rw.op))
    return f"out of {where}" + (f", rewritten: {', '.join(rewrites)}" if rewrites else "")


def _step(step: TraceStep) -> str:
    stage = f"[{step.stage}] " if step.stage is not None else ""
    return "  " * step.depth + stage + step.decision


def _consulted(result: Result, view: DictView) -> list[str]:
    lines = []
    for chain_id in sorted(t for t in result.tags if view.get("chain", t) is not None):
        chain = view.get("chain", chain_id) or {}
        name = f" {chain['name']}" if chain.get("name") else ""
        lines.append(f"  chain{name} ({chain_id})")
        for rule_id in chain.get("ruleIds") or ():
            if rule_id in result.tags:
                rule = view.get("rule", rule_id) or {}
                lines.append(f"    rule {rule_id} ({rule.get('type', '?')})")
    return lines or ["  none"]


def _messages(messages: list[Message], ports: dict[int, str]) -> list[str]:
    lines = []
    for m in messages:
        if isinstance(m, FlowSpec):
            match = ",".join(f"{k}={_match_value(k, v, ports)}" for k, v in m.match.items())
            lines.append(f"flow table={m.table} cookie={m.cookie:#x} priority={m.priority}"
                         f" idle_timeout={m.idle_timeout} match: {match or 'any'}"
                         f" actions: {_actions(m.actions, ports)}")
        elif isinstance(m, PacketOut):
            lines.append(f"packet-out actions: {_actions(m.actions, ports)}")
        else:
            lines.append(str(m))
    return lines or ["nothing (no flow)"]


def _actions(actions: tuple[Action, ...], ports: dict[int, str]) -> str:
    return ",".join(f"output:{a.args[0]}" if a.kind == "output" else str(a)
                    for a in actions) or "drop"


def _match_value(name: str, value: object, ports: dict[int, str]) -> str:
    if isinstance(value, tuple) and len(value) == 2:
        return f"{_value(name, value[0])}/{_value(name, value[1])}"
    return _value(name, value)


def _value(name: str, value: object) -> str:
    if name == "eth_type" and isinstance(value, int):
        return f"{value:#06x}"
    return str(value)


def _host(view: DictView, host_id: object) -> str:
    if not host_id:
        return "(none: the port is not bound)"
    host = view.get("host", str(host_id)) or {}
    return f"{host['name']} ({host_id})" if host.get("name") else str(host_id)
