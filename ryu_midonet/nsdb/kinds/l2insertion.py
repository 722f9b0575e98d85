"""L2 insertions: a service port in the path of a protected MAC on an inspected port.

Traffic from and to ``mac`` on ``portId`` passes, after the port's own filters, through the
service ports of that port's insertions in ``position`` order (see
:mod:`ryu_midonet.sim.devices.l2insertion`). ``vlan`` > 0 tags what enters the service port;
``failOpen`` skips a service port whose link is down instead of dropping.

Integrity: ``portId`` and ``srvPortId`` never change; a protected port is no service port and
a service port is no protected port; one (port, service port) pair once. The positions of one
port's insertions stay 0, 1, ... n-1: a new one at ``position`` p moves those at p and after
one place on (a position past the end, or none, puts it last), a moved one takes its new place
among the others, and a deleted one closes its gap. An insertion goes with either port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

KIND = "l2Insertion"
POSITION_MAX = 2**31 - 1


def _siblings(txn: Txn, obj: Obj) -> list[Obj]:
    """The other insertions of ``obj``'s inspected port, in position order."""
    others = [o for o in txn.list_by(KIND, "portId", obj["portId"]) if o["id"] != obj["id"]]
    return sorted(others, key=lambda o: (o["position"], o["srvPortId"]))


def _place(txn: Txn, obj: Obj, wanted: int | None) -> None:
    """Put ``obj`` at ``wanted`` (last when None or past the end) and renumber the others."""
    others = _siblings(txn, obj)
    at = len(others) if wanted is None else min(wanted, len(others))
    order = others[:at] + [obj] + others[at:]
    for pos, o in enumerate(order):
        if o is obj:
            obj["position"] = pos
        elif o["position"] != pos:
            o["position"] = pos
            txn.put(KIND, o)


def _check_ports(txn: Txn, obj: Obj) -> None:
    port, srv = obj["portId"], obj["srvPortId"]
    if port == srv:
        raise errors.InvalidInput("srvPortId", "must not be the inspected port")
    if txn.list_by(KIND, "srvPortId", port):
        raise errors.InvalidInput("portId", f"port {port} is a service port; it cannot be "
                                            "protected")
    if txn.list_by(KIND, "portId", srv):
        raise errors.InvalidInput("srvPortId", f"port {srv} is a protected port; it cannot "
                                               "be a service port")
    if any(o["srvPortId"] == srv for o in _siblings(txn, obj)):
        raise errors.InvalidInput("srvPortId", f"port {srv} already serves port {port}")


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    _check_ports(txn, obj)
    given = data.get("position") if isinstance(data, dict) else None
    _place(txn, obj, None if given is None else obj["position"])


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    for name in ("portId", "srvPortId"):
        if obj[name] != old[name]:
            raise errors.InvalidInput(name, "cannot be changed; delete the insertion and "
                                            "create another")
    if obj["position"] != old["position"]:
        _place(txn, obj, obj["position"])


def _remove(txn: Txn, obj: Obj) -> None:
    for pos, o in enumerate(_siblings(txn, obj)):
        if o["position"] != pos:
            o["position"] = pos
            txn.put(KIND, o)


def _port(required: bool) -> Field:
    return Field("uuid", ref="port", index=True, on_delete=OnDelete.CASCADE, required=required,
                 nullable=False)


SPEC = KindSpec(
    KIND,
    {
        "portId": _port(True),
        "srvPortId": _port(True),
        "mac": Field("mac", required=True, nullable=False),
        "vlan": Field("int", 0, lo=0, hi=4095, nullable=False),
        "position": Field("int", 0, lo=0, hi=POSITION_MAX, nullable=False),
        "failOpen": Field("bool", False, nullable=False),
    },
    on_create=_create,
    on_update=_update,
    on_remove=_remove,
)
