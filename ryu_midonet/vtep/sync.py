"""Reading a VTEP's ``hardware_vtep`` database and writing :class:`~.desired.Wanted` into it.

Only logical switches named ``mn-...`` are ours: their VLAN bindings, remote MACs and the
logical switches themselves are made exactly what is wanted, in one transaction; anything
else in the database is left alone. ``Physical_Locator`` and ``Physical_Locator_Set`` rows
no longer referenced are garbage-collected by ovsdb-server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ovsdbapp.backend.ovs_idl.command import BaseCommand

from ryu_midonet.vtep.desired import PREFIX, UNKNOWN_DST, Wanted

VXLAN = "vxlan_over_ipv4"


@dataclass(frozen=True)
class SwitchInfo:
    """What the switch's ``Physical_Switch`` row says."""

    name: str
    description: str
    tunnel_ips: list[str]
    ports: list[dict[str, str]]  # {name, description}


def _switch(api: Any, management_ip: str) -> Any:
    rows = list(api.tables["Physical_Switch"].rows.values())
    for row in rows:
        if management_ip in list(row.management_ips):
            return row
    return rows[0] if rows else None


def read_switch(api: Any, management_ip: str) -> SwitchInfo | None:
    """The physical switch (the one with ``management_ip``, else the first), or None: the
    database holds none (not a VTEP)."""
    row = _switch(api, management_ip)
    if row is None:
        return None
    ports = sorted(({"name": p.name, "description": p.description} for p in row.ports),
                   key=lambda p: p["name"])
    return SwitchInfo(row.name, row.description, sorted(row.tunnel_ips), ports)


def _ours(ls: Any) -> bool:
    return bool(ls is not None and str(ls.name).startswith(PREFIX))


def local_macs(api: Any) -> dict[str, set[str]]:
    """Our logical switches' MACs the switch learned on its ports (``Ucast_Macs_Local``)."""
    out: dict[str, set[str]] = {}
    for row in api.tables["Ucast_Macs_Local"].rows.values():
        ls = row.logical_switch
        if _ours(ls):
            out.setdefault(ls.name, set()).add(str(row.MAC).lower())
    return out


def remote_macs(api: Any) -> dict[str, dict[str, str]]:
    """Our logical switches' remote MACs: switch -> mac -> tunnel IP."""
    out: dict[str, dict[str, str]] = {}
    for row in api.tables["Ucast_Macs_Remote"].rows.values():
        ls = row.logical_switch
        if _ours(ls):
            out.setdefault(ls.name, {})[str(row.MAC).lower()] = row.locator.dst_ip
    return out


class SyncVtep(BaseCommand):  # type: ignore[misc]
    """Make our part of the database exactly ``wanted`` (on the switch with
    ``management_ip``)."""

    def __init__(self, api: Any, management_ip: str, wanted: Wanted) -> None:
        super().__init__(api)
        self.management_ip = management_ip
        self.wanted = wanted

    def run_idl(self, txn: Any) -> None:
        tables = self.api.tables
        want = self.wanted
        switches = {r.name: r for r in tables["Logical_Switch"].rows.values()}
        stale = {n: r for n, r in switches.items()
                 if n.startswith(PREFIX) and n not in want.switches}
        for name, vni in want.switches.items():
            ls = switches.get(name)
            if ls is None:
                ls = switches[name] = txn.insert(tables["Logical_Switch"])
                ls.name = name
                ls.tunnel_key = [vni]
            elif list(ls.tunnel_key) != [vni]:
                ls.tunnel_key = [vni]
        self._bindings(switches)
        locators = {r.dst_ip: r for r in tables["Physical_Locator"].rows.values()
                    if r.encapsulation_type == VXLAN and not list(r.tunnel_key)}

        def locator(ip: str) -> Any:
            if ip not in locators:
                row = locators[ip] = txn.insert(tables["Physical_Locator"])
                row.encapsulation_type = VXLAN
                row.dst_ip = ip
            return locators[ip]

        have: set[tuple[str, str]] = set()
        for row in list(tables["Ucast_Macs_Remote"].rows.values()):
            ls = row.logical_switch
            if not _ours(ls):
                continue
            ip = want.ucast.get(ls.name, {}).get(str(row.MAC).lower())
            if ip is None or row.locator.dst_ip != ip or (ls.name, row.MAC) in have:
                row.delete()
            else:
                have.add((ls.name, row.MAC))
        for name, macs in want.ucast.items():
            for mac, ip in sorted(macs.items()):
                if (name, mac) not in have:
                    row = txn.insert(tables["Ucast_Macs_Remote"])
                    row.MAC, row.logical_switch, row.locator = mac, switches[name], locator(ip)
        flooded: set[str] = set()
        for row in list(tables["Mcast_Macs_Remote"].rows.values()):
            ls = row.logical_switch
            if not _ours(ls):
                continue
            ips = {loc.dst_ip for loc in row.locator_set.locators}
            ip = want.flood.get(ls.name)
            if row.MAC != UNKNOWN_DST or ips != {ip} or ls.name in flooded:
                row.delete()
            else:
                flooded.add(ls.name)
        for name, ip in sorted(want.flood.items()):
            if name not in flooded:
                locator_set = txn.insert(tables["Physical_Locator_Set"])
                locator_set.locators = [locator(ip)]
                row = txn.insert(tables["Mcast_Macs_Remote"])
                row.MAC, row.logical_switch, row.locator_set = (UNKNOWN_DST, switches[name],
                                                                locator_set)
        for ls in stale.values():
            for table in ("Ucast_Macs_Local", "Mcast_Macs_Local"):
                for row in list(tables[table].rows.values()):
                    if row.logical_switch is ls:
                        row.delete()
            ls.delete()

    def _bindings(self, switches: dict[str, Any]) -> None:
        ps = _switch(self.api, self.management_ip)
        if ps is None:
            return
        for port in ps.ports:
            current = {int(v): ls for v, ls in dict(port.vlan_bindings).items()}
            new = {v: ls for v, ls in current.items() if not _ours(ls)}
            for vlan, name in self.wanted.bindings.get(port.name, {}).items():
                new[vlan] = switches[name]
            if {v: ls.name for v, ls in new.items()} != {v: ls.name for v, ls in current.items()}:
                port.vlan_bindings = new
