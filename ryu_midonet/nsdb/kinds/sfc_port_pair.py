"""networking-sfc port pairs: one service function instance, entered at ``ingress`` and left
at ``egress`` (the same port for a one-armed function).

``service_function_parameters``: ``correlation`` is the service header the function
understands (``mpls``, ``nsh``, or null: header-unaware, served by proxy) and ``weight`` its
share of its group's load. Both ports are exterior ports of one bridge (the function's network)
and, when bound, on one host (one instance), as networking-sfc requires them to be on one
device; a pair of ports is used by one port pair only. Only ``name`` and ``description``
change after creation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.kinds import sfc_common as c
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

DEFAULT_SF_PARAMETERS: dict[str, Any] = {"correlation": None, "weight": 1}


def sf_parameters(value: Any) -> dict[str, Any]:
    return c.params("service_function_parameters", value, DEFAULT_SF_PARAMETERS,
                    {"correlation": c.correlation(nullable=True), "weight": c.non_negative})


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    obj["service_function_parameters"] = sf_parameters(obj.get("service_function_parameters"))
    ports = {}
    for name in ("ingress", "egress"):
        port = txn.get("port", obj.get(name))
        if port is None:
            raise errors.InvalidInput(name, f"port {obj.get(name)} does not exist")
        if port.get("type") != "Bridge":
            raise errors.InvalidInput(name, f"port {port['id']} is not a bridge port: a "
                                      "service function sits on a network")
        if port.get("peerId"):
            raise errors.InvalidInput(name, f"port {port['id']} is linked to a device, not "
                                      "an exterior port")
        ports[name] = port
    ingress, egress = ports["ingress"], ports["egress"]
    if ingress["deviceId"] != egress["deviceId"]:
        raise errors.InvalidInput("egress", f"port {egress['id']} is not on the network "
                                  f"(bridge {ingress['deviceId']}) of the ingress port")
    if ingress.get("hostId") and egress.get("hostId") and \
            ingress["hostId"] != egress["hostId"]:
        raise errors.InvalidInput("egress", f"port {egress['id']} is bound on another host "
                                  "than the ingress port: a port pair is one instance")
    for other in txn.list_by("portPair", "ingress", ingress["id"]):
        if other["egress"] == egress["id"]:
            raise errors.InvalidInput("ingress", f"port pair {other['id']} already has these "
                                      "ingress and egress ports")


SPEC = KindSpec(
    "portPair",
    {
        **c.common_fields(),
        "ingress": Field("uuid", ref="port", index=True, required=True, nullable=False,
                         update=False, on_delete=OnDelete.REFUSE),
        "egress": Field("uuid", ref="port", index=True, required=True, nullable=False,
                        update=False, on_delete=OnDelete.REFUSE),
        "service_function_parameters": Field("any", update=False),
    },
    on_create=_create,
)
