"""Words -> a structured command.

A command names a path of objects from the root (``router router0 port port1``), a verb that
may stand before, inside or after that path (``list router``, ``router list``,
``router router0 route add ...``), possibly a collection of the last object, then arguments::

    [verb] {collection member} [verb] [collection [verb]] {argument}

A member is named by alias, alias path or UUID (``router router0``), or by attribute values
that match exactly one member (``tunnel-zone tzone0 member host host0 show``). Arguments are
``attribute value`` pairs (create, set, list filters), attribute names (clear, show).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ryu_midonet.cli import model as m
from ryu_midonet.cli.attrs import Attr
from ryu_midonet.cli.errors import CliError
from ryu_midonet.cli.session import Node, Session
from ryu_midonet.cli.tokens import verb_of
from ryu_midonet.cli.values import is_uuid

ARGUMENT_VERBS = ("create", "list")  # verbs whose words after the collection are arguments


@dataclass
class Command:
    verb: str | None
    chain: list[Node] = field(default_factory=list)
    collection: m.Collection | None = None
    singleton: str | None = None
    args: list[str] = field(default_factory=list)

    @property
    def target(self) -> Node | None:
        return self.chain[-1] if self.chain else None


def parse(words: list[str], session: Session) -> Command:
    """Resolve the object path of ``words``; what follows it is left in ``args``."""
    cmd = Command(verb=None)
    session.context = cmd.chain
    i, n = 0, len(words)
    while i < n:
        word = words[i]
        verb = verb_of(word) if cmd.verb is None else None
        if verb:
            cmd.verb = verb
            i += 1
            continue
        if cmd.collection is not None or cmd.singleton is not None:
            break
        otype = cmd.target.otype if cmd.target else m.ROOT
        if cmd.target is None and word in m.SINGLETONS:
            cmd.singleton = word
            i += 1
            continue
        if cmd.verb is None and cmd.target is not None and word in otype.follows:
            cmd.chain.append(_follow(cmd.target, word, session))
            i += 1
            continue
        coll = otype.children.get(word)
        if coll is None:
            break
        nxt = words[i + 1] if i + 1 < n else None
        if nxt is None or (cmd.verb is None and verb_of(nxt)):
            cmd.collection = coll
            i += 1
            continue
        if cmd.verb in ARGUMENT_VERBS and _is_attr_word(coll, nxt):
            cmd.collection = coll
            i += 1
            break
        if _is_attr_word(coll, nxt):
            node, i = _select(words, i + 1, coll, cmd, session)
        else:
            node = session.find(cmd.target, coll, nxt)
            i += 2
        cmd.chain.append(node)
    cmd.args = words[i:]
    return cmd


def _follow(node: Node, word: str, session: Session) -> Node:
    """``pool pool0 health-monitor``: the object the node's field names, at its own alias."""
    kind, field_ = node.otype.follows[word]
    obj_id = node.dto.get(field_)
    if not obj_id:
        raise CliError(f"{node.otype.label} {node.path()} has no {word}")
    return session.find(None, m.TOP_BY_KIND[kind], str(obj_id))


def _is_attr_word(coll: m.Collection, word: str) -> bool:
    return any(t.attr(word) is not None for t in coll.types) and not is_uuid(word)


def _select(words: list[str], i: int, coll: m.Collection, cmd: Command,
            session: Session) -> tuple[Node, int]:
    """``member host host0``: the one member whose attributes have these values."""
    pairs: list[tuple[str, str]] = []
    while i + 1 < len(words) and _is_attr_word(coll, words[i]):
        pairs.append((words[i], words[i + 1]))
        i += 2
    found = [node for node in session.children(cmd.target, coll)
             if all(matches(node, name, value, session) for name, value in pairs)]
    what = " ".join(f"{k} {v}" for k, v in pairs)
    if not found:
        raise CliError(f"no {coll.name} with {what}")
    if len(found) > 1:
        raise CliError(f"{len(found)} {coll.name}s have {what}; be more specific")
    return found[0], i


def matches(node: Node, name: str, value: str, session: Session) -> bool:
    """Whether ``node``'s attribute ``name`` has ``value`` (as printed, or the same object)."""
    attr = node.otype.attr(name)
    if attr is None:
        return False
    if attr.field and is_uuid(value) and str(node.dto.get(attr.field, "")).lower() == \
            value.lower():
        return True
    shown = attr.display(node.dto, session)
    if shown == value:
        return True
    if attr.ref and attr.field and shown is not None:
        try:
            return session.ref_id(attr.ref, value) == node.dto.get(attr.field)
        except CliError:
            return False
    return False


def parse_pairs(otype: m.ObjType, args: list[str], session: Session,
                what: str) -> list[tuple[Attr, str]]:
    """``name value`` pairs; a reference may also be an object path (``router r0 port p0``)."""
    pairs: list[tuple[Attr, str]] = []
    i = 0
    while i < len(args):
        attr = otype.attr(args[i])
        if attr is None:
            raise CliError(f"{otype.label} has no attribute {args[i]!r} "
                           f"(attributes: {', '.join(_visible(otype))})")
        if i + 1 >= len(args):
            raise CliError(f"{what}: attribute {attr.name!r} needs a value")
        value, i = _value(attr, args, i + 1, session)
        pairs.append((attr, value))
    return pairs


def _value(attr: Attr, args: list[str], i: int, session: Session) -> tuple[str, int]:
    """One value; for references ``<type> <alias> [<type> <alias> ...]`` is a path."""
    word = args[i]
    if attr.ref and word in m.ROOT.children and i + 1 < len(args):
        node: Node | None = None
        otype = m.ROOT
        while i + 1 < len(args) and args[i] in otype.children:
            node = session.find(node, otype.children[args[i]], args[i + 1])
            otype = node.otype
            i += 2
        if node is not None:
            if node.otype.kind != attr.ref:
                raise CliError(f"{attr.name}: {node.path()} is a {node.otype.kind}, "
                               f"not a {attr.ref}")
            return node.id, i
    return word, i + 1


def attr_names(otype: m.ObjType, args: list[str]) -> list[Attr]:
    """Attribute names (for clear and show)."""
    out = []
    for word in args:
        attr = otype.attr(word)
        if attr is None:
            raise CliError(f"{otype.label} has no attribute {word!r} "
                           f"(attributes: {', '.join(_visible(otype))})")
        out.append(attr)
    return out


def _visible(otype: m.ObjType) -> list[str]:
    return [a.name for a in otype.attrs if a.name != "id"]
