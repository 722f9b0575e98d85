"""Running one command line: the verbs list, show, create, delete, set, clear, describe, and
the session commands sett, cleart and help."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ryu_midonet.cli import model as m
from ryu_midonet.cli.attrs import Attr, Peer
from ryu_midonet.cli.errors import ApiError, CliError
from ryu_midonet.cli.formatter import created_line, describe, listing_line, show_line
from ryu_midonet.cli.kinds.sfc import WORD as SFC
from ryu_midonet.cli.parser import Command, attr_names, matches, parse, parse_pairs
from ryu_midonet.cli.session import Node, Session
from ryu_midonet.cli.store import run_store
from ryu_midonet.cli.tokens import tokenize, verb_of

Write = Callable[[str], None]

HELP = """\
Commands (an OBJECT is a path such as "router router0" or "bridge bridge0 port port1"):
  list [OBJECT] COLLECTION [ATTR VALUE ...]    also: [OBJECT] COLLECTION list, OBJECT list ...
  show OBJECT [ATTR]                           also: OBJECT show [ATTR], OBJECT
  create [OBJECT] COLLECTION {ATTR VALUE}      "add" is the same verb; also COLLECTION create
  delete OBJECT                                also: OBJECT delete, PARENT delete CHILD ALIAS
  set OBJECT ATTR VALUE {ATTR VALUE}           also: OBJECT set ...; set system-state ...
  clear OBJECT ATTR {ATTR}                     also: OBJECT clear ATTR
  describe [OBJECT] [COLLECTION]               the collections and attributes of a type
  sett TENANT | cleart                         set or clear the tenant of this session
  store status | store accept                  hosts keeping a topology the store lost;
                                               accept the store as it is
  help | quit | exit
Collections: router, bridge, port, chain, host, tunnel-zone, port-group, ip-address-group.
Values: "!" inverts a rule condition (src !10.0.0.0/16); references take aliases
(router0:port1), UUIDs, or paths (port router router0 port port0)."""


class NoMatches(CliError):
    """A filtered listing matched nothing: a silent failure, like grep's."""

    def __init__(self) -> None:
        super().__init__("")


def run_line(line: str, session: Session, write: Write) -> None:
    """Run one command line; raise :class:`CliError` when it fails."""
    words = tokenize(line)
    if not words:
        return
    session.begin_command()
    if words[0] == SFC and len(words) > 1:  # "sfc port-chain list": networking-sfc's word
        words = words[1:]
    head = words[0]
    if head == "sett":
        if len(words) != 2:
            raise CliError("usage: sett TENANT_ID")
        session.tenant = words[1]
        write(f"tenant_id: {session.tenant}")
        return
    if head == "cleart":
        session.tenant = None
        write("tenant_id: None")
        return
    if head in ("help", "?"):
        write(HELP)
        return
    if head == "store":
        run_store(words, session, write)
        return
    run(parse(words, session), session, write)


def run(cmd: Command, session: Session, write: Write) -> None:
    verb = cmd.verb
    if verb is None and cmd.args and verb_of(cmd.args[-1]) == "show":  # OBJECT FIELD show
        verb, cmd.args = "show", cmd.args[:-1]
    if verb is None:
        if (cmd.chain or cmd.singleton) and cmd.collection is None:
            verb = "show"
        elif cmd.collection is not None:
            raise CliError("incomplete command: add a verb (list, show, create, delete, set, "
                           "clear)")
        else:
            word = cmd.args[0] if cmd.args else ""
            raise CliError(f"unknown command or object type {word!r}; type help")
    VERBS[verb](cmd, session, write)


def do_list(cmd: Command, session: Session, write: Write) -> None:
    coll = cmd.collection
    if coll is None:
        raise _no_collection(cmd, "list", "list router, router router0 list port")
    filters = _filters(coll, cmd.args)
    nodes = session.children(cmd.target, coll)
    if filters:
        nodes = [n for n in nodes if all(matches(n, k, v, session) for k, v in filters)]
        if not nodes:
            raise NoMatches()
    for node in nodes:
        write(listing_line(node, session, coll.full_alias))


def _filters(coll: m.Collection, args: list[str]) -> list[tuple[str, str]]:
    if len(args) % 2:
        raise CliError(f"list filters are ATTR VALUE pairs: {' '.join(args)}")
    pairs = list(zip(args[::2], args[1::2], strict=True))
    for name, _ in pairs:
        if all(t.attr(name) is None for t in coll.types):
            raise CliError(f"{coll.otype.label} has no attribute {name!r}")
    return pairs


def do_show(cmd: Command, session: Session, write: Write) -> None:
    if cmd.singleton:
        otype = m.SINGLETONS[cmd.singleton]
        dto = session.api.get(m.SINGLETON_PATHS[cmd.singleton]) or {}
        fields = attr_names(otype, cmd.args)
        if fields:
            for attr in fields:
                write(attr.display(dto, session) or "")
        else:
            write(f"{otype.label} {describe(otype, dto, session)}".strip())
        return
    node = _target(cmd, "show")
    if not cmd.args:
        write(show_line(node, session))
        return
    for attr in attr_names(node.otype, cmd.args):
        text = node.id if attr.name == "id" else attr.display(node.dto, session)
        if text is not None:
            write(text)


def do_create(cmd: Command, session: Session, write: Write) -> None:
    coll = cmd.collection
    if coll is None:
        raise _no_collection(cmd, "create", "create router name edge")
    if coll.create_path is None:
        raise CliError(f"a {coll.name} cannot be created here")
    parent = cmd.target
    otype = coll.otype
    pairs = parse_pairs(otype, cmd.args, session, f"create {coll.name}")
    _check_required(otype, pairs)
    body: dict[str, Any] = {}
    peer = None
    for attr, value in pairs:
        if isinstance(attr, Peer):
            peer = attr.parse(value, session)["peerId"]
        else:
            merge(body, attr.write(value, session))
    if otype.tenant and session.tenant and "tenantId" not in body:
        body["tenantId"] = session.tenant
    if otype.prefix:
        session.children(parent, coll)  # the existing members get their aliases first
    with _naming_attrs(otype, pairs):
        dto = session.api.post(coll.create_path(parent.dto if parent else None), body) or {}
        if peer:
            session.api.post(f"ports/{dto['id']}/link", {"peerId": peer})
    node = session.add_created(parent, coll, dto)
    write(created_line(node, session))


def merge(body: dict[str, Any], fields: dict[str, Any]) -> None:
    """Add an attribute's fields to a request body; one key of a parameter object (a
    ``{key: value}`` dict) joins the others already there."""
    for name, value in fields.items():
        old = body.get(name)
        body[name] = {**old, **value} if isinstance(value, dict) and isinstance(old, dict) \
            else value


def _check_required(otype: m.ObjType, pairs: list[tuple[Attr, str]]) -> None:
    given = {attr.name for attr, _ in pairs}
    missing = [r.replace("|", " or ") for r in otype.required
               if not any(alt in given for alt in r.split("|"))]
    if missing:
        raise CliError(f"missing required attribute{'s' if len(missing) > 1 else ''} for "
                       f"{otype.label}: {', '.join(missing)}")


def do_delete(cmd: Command, session: Session, write: Write) -> None:
    node = _target(cmd, "delete")
    if cmd.args:
        raise CliError(f"unexpected words after delete: {' '.join(cmd.args)}")
    if not node.collection.deletable:
        raise CliError(f"a {node.collection.name} cannot be deleted")
    session.api.delete(_item_path(node))


def do_set(cmd: Command, session: Session, write: Write) -> None:
    if cmd.singleton:
        otype = m.SINGLETONS[cmd.singleton]
        pairs = parse_pairs(otype, cmd.args, session, f"set {cmd.singleton}")
        if not pairs:
            raise CliError("set needs ATTR VALUE pairs")
        path = m.SINGLETON_PATHS[cmd.singleton]
        body = dict(session.api.get(path) or {})
        for attr, value in pairs:
            body.update(attr.write(value, session))
        session.api.put(path, body)
        return
    node = _target(cmd, "set")
    pairs = parse_pairs(node.otype, cmd.args, session, "set")
    if not pairs:
        raise CliError("set needs ATTR VALUE pairs, e.g. set name edge")
    body = dict(node.dto)
    peers = []
    for attr, value in pairs:
        if isinstance(attr, Peer):
            peers.append(attr.parse(value, session)["peerId"])
        else:
            merge(body, attr.write(value, session))
    with _naming_attrs(node.otype, pairs):
        if len(peers) != len(pairs):
            _check_updatable(node)
            session.api.put(_item_path(node), body)
        for peer in peers:
            session.api.post(f"ports/{node.id}/link", {"peerId": peer})


def do_clear(cmd: Command, session: Session, write: Write) -> None:
    node = _target(cmd, "clear")
    attrs = attr_names(node.otype, cmd.args)
    if not attrs:
        raise CliError("clear needs attribute names, e.g. clear infilter")
    body = dict(node.dto)
    unlink = False
    for attr in attrs:
        if isinstance(attr, Peer):
            unlink = True
        else:
            merge(body, attr.cleared())
    if any(not isinstance(attr, Peer) for attr in attrs):
        _check_updatable(node)
        session.api.put(_item_path(node), body)
    if unlink and node.dto.get("peerId"):
        session.api.delete(f"ports/{node.id}/link")


def do_describe(cmd: Command, session: Session, write: Write) -> None:
    if cmd.singleton:
        otype = m.SINGLETONS[cmd.singleton]
    elif cmd.collection is not None:
        otype = cmd.collection.otype
    else:
        otype = cmd.target.otype if cmd.target else m.ROOT
    children = list(otype.children) + (list(m.SINGLETONS) if otype is m.ROOT else [])
    write(f"collections: {' '.join(children) or '<none>'}")
    write(f"attributes: {' '.join(a.name for a in otype.attrs) or '<none>'}")


@contextmanager
def _naming_attrs(otype: m.ObjType, given: list[tuple[Attr, str]]) -> Iterator[None]:
    """Add the CLI attribute to an API error that names an API field (nwProto -> proto),
    preferring the attributes the command gave."""
    try:
        yield
    except ApiError as exc:
        attrs = [a for a, _ in given] + list(otype.attrs)
        names = [a.name for a in attrs if exc.field and exc.field in a.api_fields()]
        if names:
            raise CliError(f"{exc} (attribute {names[0]})") from None
        raise


def _no_collection(cmd: Command, verb: str, example: str) -> CliError:
    otype = cmd.target.otype if cmd.target else m.ROOT
    names = ", ".join(otype.children) or "none"
    if cmd.args:
        return CliError(f"{cmd.args[0]!r} is not a collection here (collections: {names})")
    return CliError(f"{verb} what? name a collection ({names}), e.g. {example}")


def _target(cmd: Command, verb: str) -> Node:
    node = cmd.target
    if node is None or cmd.collection is not None:
        what = cmd.collection.name if cmd.collection else "object"
        raise CliError(f"{verb} what? name one {what}, e.g. {verb} router router0")
    return node


def _check_updatable(node: Node) -> None:
    if not node.collection.updatable:
        raise CliError(f"a {node.collection.name} cannot be changed; delete it and create "
                       "another")


def _item_path(node: Node) -> str:
    parent = node.parent.dto if node.parent else None
    return node.collection.item_path(parent, node.dto)


VERBS: dict[str, Callable[[Command, Session, Write], None]] = {
    "list": do_list, "show": do_show, "create": do_create, "delete": do_delete,
    "set": do_set, "clear": do_clear, "describe": do_describe,
}
