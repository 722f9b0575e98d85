"""What a VTEP's ``hardware_vtep`` database should hold for the bridges bound to it.

One logical switch per bound bridge, named ``mn-<bridge id>``, with the bridge's VNI as tunnel
key; the ``vlan_bindings`` of the bound physical ports; a remote unicast MAC for every MAC the
bridge's table has behind a port bound to a host of the VTEP's tunnel zone, at that host's
address in the zone; and the unknown-destination (BUM) locator at the flooding proxy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ryu_midonet.types import Obj

PREFIX = "mn-"
UNKNOWN_DST = "unknown-dst"

MacListing = Callable[[str], list[tuple[str, int | None, str, bool]]]
"""bridge id -> its MAC table entries as (mac, vlan, port id, static)."""


@dataclass
class Wanted:
    switches: dict[str, int] = field(default_factory=dict)  # logical switch -> VNI
    bindings: dict[str, dict[int, str]] = field(default_factory=dict)  # port -> vlan -> switch
    ucast: dict[str, dict[str, str]] = field(default_factory=dict)  # switch -> mac -> tunnel IP
    flood: dict[str, str] = field(default_factory=dict)  # switch -> flooding proxy tunnel IP


def switch_name(bridge_id: str) -> str:
    return PREFIX + bridge_id


def bridge_of(switch: str) -> str | None:
    return switch[len(PREFIX):] if switch.startswith(PREFIX) else None


def zone_addresses(zone: Obj | None) -> dict[str, str]:
    """host id -> its address in the tunnel zone."""
    return {m["hostId"]: m["ipAddress"] for m in (zone or {}).get("tzHosts", [])}


def compute(vtep: Obj, ports: Mapping[str, Obj], addresses: Mapping[str, str],
            macs: MacListing, proxy_ip: str | None) -> Wanted:
    """The state of ``vtep``'s database; ``ports``: the topology's ports by id."""
    out = Wanted()
    vnis = {p["deviceId"]: p["vni"] for p in ports.values()
            if p.get("vtepId") == vtep["id"] and p.get("vni")}
    for binding in vtep.get("portVlanBindings", []):
        bridge_id = binding["networkId"]
        if bridge_id not in vnis:
            continue
        name = switch_name(bridge_id)
        out.switches[name] = int(vnis[bridge_id])
        out.bindings.setdefault(binding["portName"], {})[int(binding["vlanId"])] = name
    for name in out.switches:
        bridge_id = name[len(PREFIX):]
        remote: dict[str, str] = {}
        for mac, vlan, port_id, _static in macs(bridge_id):
            port = ports.get(port_id)
            if vlan is not None or port is None or port.get("vtepId"):
                continue
            ip = addresses.get(port.get("hostId") or "")
            if ip:
                remote[mac.lower()] = ip
        out.ucast[name] = remote
        if proxy_ip:
            out.flood[name] = proxy_ip
    return out
