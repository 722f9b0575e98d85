"""Objects -> the lines the CLI prints.

``router router0 name edge state up``: the type label, the alias, then every shown attribute
that has a value, as ``name value``. Objects without aliases (members, bindings, addresses,
interfaces) print only their attributes in listings, and their label first when shown alone.
"""

from __future__ import annotations

from ryu_midonet.cli.attrs import RefContext
from ryu_midonet.cli.objtype import ObjType
from ryu_midonet.cli.session import Node


def describe(otype: ObjType, dto: dict, ctx: RefContext) -> str:
    """``name value`` for each shown attribute that has a value, in display order."""
    parts = []
    for attr in otype.attrs:
        if not attr.show:
            continue
        text = attr.display(dto, ctx)
        if text is not None:
            parts.append(f"{attr.name} {text}")
    return " ".join(parts)


def listing_line(node: Node, ctx: RefContext, full_alias: bool = False) -> str:
    """One line of ``list``: ``label alias attrs`` (``full_alias``: the whole alias path)."""
    desc = describe(node.otype, node.dto, ctx)
    if node.alias is None:
        return desc
    alias = node.path() if full_alias else node.alias
    return _join(node.otype.label, alias, desc)


def show_line(node: Node, ctx: RefContext) -> str:
    """The line of ``show``: like a listing line, with the label also for alias-less objects."""
    desc = describe(node.otype, node.dto, ctx)
    if node.alias is None:
        return _join(node.otype.label, desc)
    return _join(node.otype.label, node.alias, desc)


def created_line(node: Node, ctx: RefContext) -> str:
    """What ``create`` prints: the new alias path, or the attributes of alias-less objects."""
    if node.alias is None:
        return describe(node.otype, node.dto, ctx)
    return node.path()


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)
