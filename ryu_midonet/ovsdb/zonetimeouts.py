"""Connection-tracking timeout policies of zones, in the Open vSwitch database.

``Open_vSwitch.datapaths`` maps a datapath type (``netdev``) to a ``Datapath`` row whose
``ct_zones`` map a zone to a ``CT_Zone`` row, whose ``timeout_policy`` is a
``CT_Timeout_Policy`` row (``timeouts``: state -> seconds). ``CT_Zone`` rows the agent
writes carry :data:`OWNER` in ``external_ids``; it changes or removes those only, never
another zone's or datapath's row. Rows no longer referenced are garbage-collected by
ovsdb-server (none of these tables is a root table).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ovsdbapp.backend.ovs_idl.command import BaseCommand

LOG = logging.getLogger(__name__)

OWNER = "ryu-midonet"  # external_ids key (value: "ct-copies") of the CT_Zone rows the agent owns
PURPOSE = "ct-copies"

Timeouts = Mapping[str, int]


def _root(api: Any) -> Any:
    rows = list(api.tables["Open_vSwitch"].rows.values())
    return rows[0] if rows else None


def _owned(zone: Any) -> bool:
    return OWNER in (zone.external_ids or {})


class SyncZoneTimeouts(BaseCommand):  # type: ignore[misc]
    """Make the agent's zones of datapath type ``datapath_type`` exactly ``wanted`` (zone ->
    timeouts); result: the zones it could not take because another owner has them."""

    def __init__(self, api: Any, datapath_type: str, wanted: Mapping[int, Timeouts]) -> None:
        super().__init__(api)
        self.datapath_type = datapath_type
        self.wanted = {int(z): dict(t) for z, t in wanted.items()}

    def run_idl(self, txn: Any) -> None:
        self.result = []
        root = _root(self.api)
        if root is None:
            return
        datapath = dict(root.datapaths).get(self.datapath_type)
        zones: dict[int, Any] = {}
        if datapath is not None:
            zones = dict(datapath.ct_zones)
        elif not self.wanted:
            return
        else:  # a new row's columns are written, not read
            datapath = txn.insert(self.api.tables["Datapath"])
            root.setkey("datapaths", self.datapath_type, datapath)
        for number, zone in zones.items():
            if _owned(zone) and number not in self.wanted:
                datapath.delkey("ct_zones", number)
        for number, timeouts in sorted(self.wanted.items()):
            zone = zones.get(number)
            if zone is not None and not _owned(zone):
                self.result.append(number)
                continue
            policies: list[Any] = []
            if zone is None:
                zone = txn.insert(self.api.tables["CT_Zone"])
                zone.external_ids = {OWNER: PURPOSE}
                datapath.setkey("ct_zones", number, zone)
            else:
                policies = list(zone.timeout_policy or [])
            if policies and dict(policies[0].timeouts) == timeouts:
                continue
            policy = policies[0] if policies else txn.insert(
                self.api.tables["CT_Timeout_Policy"])
            policy.timeouts = timeouts
            if not policies:
                policy.external_ids = {OWNER: PURPOSE}
                zone.timeout_policy = [policy]


def owned_zones(api: Any, datapath_type: str) -> dict[int, dict[str, int]]:
    """The agent's zones of ``datapath_type`` and their timeouts, as the database has them."""
    with api.ovsdb_connection.lock:
        root = _root(api)
        datapath = dict(root.datapaths).get(datapath_type) if root is not None else None
        if datapath is None:
            return {}
        out: dict[int, dict[str, int]] = {}
        for number, zone in dict(datapath.ct_zones).items():
            if _owned(zone):
                policies = list(zone.timeout_policy or [])
                out[int(number)] = dict(policies[0].timeouts) if policies else {}
        return out
