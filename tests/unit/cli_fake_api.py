"""An in-memory stand-in for the REST API, for the midonet-cli unit tests (no network).

It is not a test module (no ``test_`` prefix), so pytest does not collect it.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from ryu_midonet.cli.session import Session

ROUTER_A = "aaaaaaaa-0000-0000-0000-000000000001"
ROUTER_B = "aaaaaaaa-0000-0000-0000-000000000002"
BRIDGE_A = "bbbbbbbb-0000-0000-0000-000000000001"
RPORT_A0 = "cccccccc-0000-0000-0000-000000000001"
RPORT_A1 = "cccccccc-0000-0000-0000-000000000002"
BPORT_A0 = "cccccccc-0000-0000-0000-000000000003"
CHAIN_A = "dddddddd-0000-0000-0000-000000000001"
CHAIN_B = "dddddddd-0000-0000-0000-000000000002"
HOST_A = "eeeeeeee-0000-0000-0000-000000000001"
TZ_A = "ffffffff-0000-0000-0000-000000000001"


def router(rid: str, name: str, **kw: Any) -> dict[str, Any]:
    return {"id": rid, "name": name, "adminStateUp": True, "inboundFilterId": None,
            "outboundFilterId": None, "asNumber": 0, "tenantId": None, **kw}


def router_port(pid: str, dev: str, addr: str, length: int, mac: str, **kw: Any) -> dict:
    return {"id": pid, "type": "Router", "deviceId": dev, "adminStateUp": True,
            "portAddress": addr, "networkLength": length, "portMac": mac, "peerId": None,
            "inboundFilterId": None, "outboundFilterId": None, **kw}


def bridge_port(pid: str, dev: str, **kw: Any) -> dict[str, Any]:
    return {"id": pid, "type": "Bridge", "deviceId": dev, "adminStateUp": True,
            "vlanId": None, "peerId": None, "inboundFilterId": None, "outboundFilterId": None,
            **kw}


def topology() -> dict[str, Any]:
    """GET path -> reply: two routers, a bridge, ports, two chains, a host, a tunnel zone."""
    rports = [router_port(RPORT_A0, ROUTER_A, "10.100.1.1", 24, "02:a6:81:08:ab:5d",
                          peerId=BPORT_A0),
              router_port(RPORT_A1, ROUTER_A, "10.100.1.2", 24, "02:fa:5f:87:bb:d2")]
    bports = [bridge_port(BPORT_A0, BRIDGE_A, peerId=RPORT_A0)]
    data: dict[str, Any] = {
        "routers": [router(ROUTER_A, "test-router", inboundFilterId=CHAIN_A),
                    router(ROUTER_B, "test-router2")],
        "bridges": [{"id": BRIDGE_A, "name": "External", "adminStateUp": True}],
        f"routers/{ROUTER_A}/ports": rports,
        f"routers/{ROUTER_B}/ports": [],
        f"bridges/{BRIDGE_A}/ports": bports,
        f"routers/{ROUTER_A}/routes": [],
        "chains": [{"id": CHAIN_A, "name": "in"}, {"id": CHAIN_B, "name": "out"}],
        f"chains/{CHAIN_A}/rules": [],
        f"chains/{CHAIN_B}/rules": [],
        "hosts": [{"id": HOST_A, "name": "controller", "alive": True,
                   "floodingProxyWeight": 1, "containerWeight": 1, "containerLimit": -1,
                   "enforceContainerLimit": False}],
        f"hosts/{HOST_A}/ports": [],
        "tunnel_zones": [{"id": TZ_A, "name": "default_tz", "type": "gre"}],
        f"tunnel_zones/{TZ_A}/hosts": [{"tunnelZoneId": TZ_A, "hostId": HOST_A,
                                        "ipAddress": "172.19.0.2"}],
        "port_groups": [], "ip_addr_groups": [],
        "system_state": {"state": "ACTIVE", "availability": "READWRITE"},
    }
    for port in rports + bports:
        data[f"ports/{port['id']}"] = port
    for key in ("routers", "bridges", "chains", "hosts", "tunnel_zones"):
        for obj in data[key]:
            data[f"{key}/{obj['id']}"] = obj
    return data


class FakeApi:
    """Answers GETs from a dict and records writes; a POST answers its body plus an id."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data = topology() if data is None else data
        self.calls: list[tuple[str, str, Any]] = []

    def get(self, path: str, query: dict[str, str] | None = None) -> Any:
        self.calls.append(("GET", path, query))
        if path not in self.data:
            from ryu_midonet.cli.errors import ApiError
            raise ApiError(404, "Not Found", f"no resource at {path}")
        return copy.deepcopy(self.data[path])

    def post(self, path: str, body: Any) -> Any:
        self.calls.append(("POST", path, body))
        reply = dict(body)
        reply.setdefault("id", str(uuid.uuid4()))
        if path.endswith("/rules"):
            reply.setdefault("position", 1)
        listing = self.data.setdefault(path, [])
        if isinstance(listing, list):
            listing.append(reply)
        return copy.deepcopy(reply)

    def put(self, path: str, body: Any) -> Any:
        self.calls.append(("PUT", path, body))
        return body

    def delete(self, path: str) -> Any:
        self.calls.append(("DELETE", path, None))
        return None

    def writes(self) -> list[tuple[str, str, Any]]:
        return [c for c in self.calls if c[0] != "GET"]


def session(data: dict[str, Any] | None = None, tenant: str | None = None) -> Session:
    return Session(FakeApi(data), tenant)  # type: ignore[arg-type]
