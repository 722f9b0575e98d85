"""The CLI's object tree, built from the kinds :data:`~ryu_midonet.cli.kinds.CLIS` registers:
the root and its collections, the singletons, and the lookups aliases and references use."""

from __future__ import annotations

from ryu_midonet.cli.kinds import CLIS
from ryu_midonet.cli.objtype import CliKind, Collection, ObjType

__all__ = ["DEVICE_COLLECTION", "ROOT", "SINGLETONS", "SINGLETON_PATHS", "TOP_BY_KIND",
           "TOP_BY_PREFIX", "Collection", "ObjType"]

_TOPS: list[tuple[CliKind, Collection]] = [(k, k.top) for k in CLIS if k.top is not None]
_SINGLETONS = [k.singleton for k in CLIS if k.singleton is not None]

ROOT = ObjType("root", "midonet", None, ())
ROOT.children = {top.name: top for _, top in _TOPS}

SINGLETONS = {s.word: s.otype for s in _SINGLETONS}
SINGLETON_PATHS = {s.word: s.path for s in _SINGLETONS}

# The root collection of every kind an alias or reference can name at the top level.
TOP_BY_KIND = {top.otype.kind: top for k, top in _TOPS if k.by_kind}
TOP_BY_PREFIX = {c.otype.prefix: c for c in TOP_BY_KIND.values()}
# A port's ``type`` -> the root collection of its device.
DEVICE_COLLECTION = {k.device: top.name for k, top in _TOPS if k.device}
