"""L2 insertions on the wire: ``/l2insertions`` (the root's ``l2insertions`` and
``l2InsertionTemplate``), media type ``L2Insertion``, as python-midonetclient's
``L2Insertion`` reads and writes them: ``portId``, ``srvPortId``, ``mac``, ``vlan``,
``position`` and ``failOpen``."""

from __future__ import annotations

from ryu_midonet.rest.resource import Resource, RestKind

RESOURCE = Resource("l2Insertion", "l2insertions", "L2Insertion", 1)

REST = RestKind(RESOURCE)
