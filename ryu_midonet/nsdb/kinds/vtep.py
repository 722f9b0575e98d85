"""Hardware VTEPs: VXLAN-capable switches managed through their ``hardware_vtep`` OVSDB.

A VTEP is given by its management address and port and a tunnel zone of type ``vtep`` (its
members are the hosts that exchange VXLAN with it). What the switch says of itself (``name``,
``description``, ``tunnelIpAddrs``, its ``physicalPorts``) and ``connectionState`` are written
by the VTEP app that owns the switch, never by clients.

A binding joins a physical port and VLAN of the switch (``portName``, ``vlanId``) to a bridge
(``networkId``). The first binding of a bridge on a VTEP gives the bridge a VXLAN port (a
bridge port with ``vtepId`` and the bridge's ``vni``); the last one going removes it. A VTEP
with bindings cannot be deleted, nor can a bridge bound to a VTEP.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.fields import Field, OnDelete
from ryu_midonet.nsdb.ids import new_id
from ryu_midonet.nsdb.kinds import port as port_kind
from ryu_midonet.nsdb.ops import Ops
from ryu_midonet.nsdb.spec import KindSpec
from ryu_midonet.types import Obj

if TYPE_CHECKING:
    from ryu_midonet.nsdb.access import Txn

STATES = ("CONNECTED", "DISCONNECTED", "ERROR")
VNI_BASE = 10000  # a bridge's first VXLAN port takes VNI_BASE + a store sequence
VNI_MAX = (1 << 24) - 1
SWITCH_FIELDS = ("name", "description", "tunnelIpAddrs", "physicalPorts", "connectionState")


def _check(txn: Txn, obj: Obj) -> None:
    tz = txn.get("tunnelZone", obj.get("tunnelZoneId"))
    if tz is None or tz["type"] != "vtep":
        raise errors.InvalidInput("tunnelZoneId", "must name a tunnel zone of type vtep")
    for other in txn.list("vtep"):
        if other["id"] != obj["id"] and (other["managementIp"], other["managementPort"]) == \
                (obj["managementIp"], obj["managementPort"]):
            raise errors.Conflict(f"VTEP {other['id']} already has management address "
                                  f"{obj['managementIp']}:{obj['managementPort']}")


def _create(txn: Txn, obj: Obj, parent_id: str | None, data: Any) -> None:
    _check(txn, obj)


def _update(txn: Txn, old: Obj, obj: Obj) -> None:
    _check(txn, obj)


def _delete(txn: Txn, vtep: Obj) -> None:
    if vtep["portVlanBindings"]:
        raise errors.Conflict(f"VTEP {vtep['id']} has {len(vtep['portVlanBindings'])} binding(s); "
                              "delete them first")


SPEC = KindSpec(
    "vtep",
    {
        "managementIp": Field("ipv4", required=True, nullable=False),
        "managementPort": Field("int", required=True, lo=1, hi=65535, nullable=False),
        "tunnelZoneId": Field("uuid", required=True, nullable=False, ref="tunnelZone",
                              index=True, on_delete=OnDelete.REFUSE),
        # what the switch says, written by the VTEP app
        "name": Field("str", create=False, update=False),
        "description": Field("str", create=False, update=False),
        "tunnelIpAddrs": Field("strs", [], create=False, update=False),
        "physicalPorts": Field("any", [], create=False, update=False),  # [{name, description}]
        "connectionState": Field("enum", "DISCONNECTED", choices=STATES, create=False,
                                 update=False),
        # [{"portName", "vlanId", "networkId"}]; bridgeIds mirrors the networks for the index
        "portVlanBindings": Field("any", [], create=False, update=False),
        "bridgeIds": Field("uuids", [], ref="bridge", index=True, create=False, update=False,
                           on_delete=OnDelete.REFUSE),
    },
    on_create=_create,
    on_update=_update,
    on_delete=_delete,
)


def vxlan_port(txn: Txn, vtep_id: str, bridge_id: str) -> Obj | None:
    """The VXLAN port of ``bridge_id`` that leads to VTEP ``vtep_id``."""
    for p in txn.list_by("port", "deviceId", bridge_id):
        if p.get("vtepId") == vtep_id:
            return p
    return None


def bridge_vni(txn: Txn, bridge_id: str) -> int:
    """The bridge's VNI: that of any of its VXLAN ports, or a new one."""
    for p in txn.list_by("port", "deviceId", bridge_id):
        if p.get("vni"):
            return int(p["vni"])
    vni = VNI_BASE + txn.next_seq("vni")
    if vni > VNI_MAX:
        raise errors.Conflict("no VNI is left for a new VXLAN gateway bridge")
    return vni


def _binding_key(port_name: Any, vlan_id: Any) -> tuple[str, int]:
    if not isinstance(port_name, str) or not port_name.strip():
        raise errors.InvalidInput("portName", "must be the name of a port of the switch")
    if isinstance(vlan_id, str) and vlan_id.isdigit():
        vlan_id = int(vlan_id)  # midonet-cli sends numbers as text
    if isinstance(vlan_id, bool) or not isinstance(vlan_id, int) or not 0 <= vlan_id <= 4095:
        raise errors.InvalidInput("vlanId", "must be a VLAN id from 0 to 4095")
    return port_name, vlan_id


def _network_id(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value))) if isinstance(value, str) else ""
    except ValueError:
        return ""


class VtepBindings(Ops):
    """Binding VTEP port-VLAN pairs to bridges, and what the switch says of itself."""

    def add_vtep_binding(self, vtep_id: str, port_name: Any, vlan_id: Any,
                         network_id: Any) -> Obj:
        port_name, vlan_id = _binding_key(port_name, vlan_id)
        bridge_id = _network_id(network_id)
        if not bridge_id:
            raise errors.InvalidInput("networkId", "must be a bridge UUID")

        def work(txn: Txn) -> Obj:
            vtep = txn.require("vtep", vtep_id)
            if txn.get("bridge", bridge_id) is None:
                raise errors.InvalidInput("networkId", f"bridge {bridge_id} does not exist")
            ports = [p.get("name") for p in vtep["physicalPorts"]]
            if port_name not in ports:
                raise errors.InvalidInput("portName", f"the switch has no port {port_name!r}"
                                          f" (it has: {', '.join(map(str, ports)) or 'none'})")
            for b in vtep["portVlanBindings"]:
                if (b["portName"], b["vlanId"]) == (port_name, vlan_id):
                    raise errors.Conflict(f"port {port_name} VLAN {vlan_id} of VTEP {vtep_id}"
                                          f" is already bound to {b['networkId']}")
            binding = {"portName": port_name, "vlanId": vlan_id, "networkId": bridge_id}
            vtep["portVlanBindings"].append(binding)
            if bridge_id not in vtep["bridgeIds"]:
                vtep["bridgeIds"].append(bridge_id)
            if vxlan_port(txn, vtep_id, bridge_id) is None:
                port = {**port_kind.SPEC.new(), "id": new_id()}
                assert port_kind.SPEC.on_create is not None
                port_kind.SPEC.on_create(txn, port, bridge_id, {})
                port["vtepId"], port["vni"] = vtep_id, bridge_vni(txn, bridge_id)
                txn.put("port", port)
            txn.put("vtep", vtep)
            return dict(binding)

        return self.store.transaction(work)

    def remove_vtep_binding(self, vtep_id: str, port_name: str, vlan_id: int) -> None:
        def work(txn: Txn) -> None:
            vtep = txn.require("vtep", vtep_id)
            kept = [b for b in vtep["portVlanBindings"]
                    if (b["portName"], b["vlanId"]) != (port_name, vlan_id)]
            if len(kept) == len(vtep["portVlanBindings"]):
                raise errors.NotFound("VTEP binding", f"{vtep_id}/{port_name}/{vlan_id}")
            before = {b["networkId"] for b in vtep["portVlanBindings"]}
            gone = before - {b["networkId"] for b in kept}
            vtep["portVlanBindings"] = kept
            vtep["bridgeIds"] = [b for b in vtep["bridgeIds"] if b not in gone]
            txn.put("vtep", vtep)
            for bridge_id in gone:
                port = vxlan_port(txn, vtep_id, bridge_id)
                if port is not None:
                    txn.delete("port", port["id"])

        self.store.transaction(work)

    def vtep_binding(self, vtep_id: str, port_name: str, vlan_id: int) -> Obj:
        for b in self.get("vtep", vtep_id)["portVlanBindings"]:
            if (b["portName"], b["vlanId"]) == (port_name, vlan_id):
                return dict(b)
        raise errors.NotFound("VTEP binding", f"{vtep_id}/{port_name}/{vlan_id}")

    def set_vtep_switch_state(self, vtep_id: str, **state: Any) -> bool:
        """Write what the switch says of itself (:data:`SWITCH_FIELDS`); whether it changed
        anything (a VTEP deleted meanwhile is left alone)."""
        unknown = set(state) - set(SWITCH_FIELDS)
        if unknown:
            raise ValueError(f"not switch state: {sorted(unknown)}")

        def work(txn: Txn) -> bool:
            vtep = txn.get("vtep", vtep_id)
            if vtep is None or all(vtep.get(k) == v for k, v in state.items()):
                return False
            vtep.update(state)
            txn.put("vtep", vtep)
            return True

        return bool(self.store.transaction(work, system=True))
