"""This host's identity in the topology: a stable id, its name, interfaces and liveness."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

from ryu_midonet.nsdb.topology import Topology

LOG = logging.getLogger(__name__)


def load_host_id(path: str) -> str:
    """The id kept in ``path``; a new UUID is written there on first use."""
    file = Path(path)
    if file.exists():
        text = file.read_text().strip()
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise SystemExit(f"{path} does not hold a host UUID: {text!r}") from None
    file.parent.mkdir(parents=True, exist_ok=True)
    host_id = str(uuid.uuid4())
    tmp = file.with_suffix(".tmp")
    tmp.write_text(host_id + "\n")
    os.replace(tmp, file)
    return host_id


def local_interfaces() -> list[dict[str, Any]]:
    """The interfaces of this host (network namespace) as MidoNet describes them."""
    try:
        out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True,
                             check=True, timeout=10).stdout
        links = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        LOG.warning("cannot list the interfaces of this host")
        return []
    result = []
    for link in links:
        name = link.get("ifname", "")
        flags = set(link.get("flags", []))
        up = "UP" in flags
        has_link = link.get("operstate") in ("UP", "UNKNOWN") and "NO-CARRIER" not in flags
        physical = Path(f"/sys/class/net/{name}/device").exists()
        endpoint = "LOCALHOST" if "LOOPBACK" in flags else "PHYSICAL" if physical else "DATAPATH"
        result.append({
            "name": name, "mac": link.get("address"), "mtu": link.get("mtu", 1500),
            "type": "Physical" if physical else "Virtual", "endpoint": endpoint,
            "addresses": [a["local"] for a in link.get("addr_info", []) if "local" in a],
            "status": (1 if up else 0) | (2 if has_link else 0), "up": up,
            "hasLink": has_link,
        })
    return result


class HostPresence:
    """Registers this host and keeps it alive with heartbeats until stopped."""

    def __init__(self, topo: Topology, host_id: str, name: str | None = None,
                 ttl_ms: int = 3000) -> None:
        self.topo = topo
        self.host_id = host_id
        self.name = name or socket.gethostname()
        self.ttl_ms = ttl_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._interfaces: list[dict[str, Any]] | None = None

    def register(self) -> None:
        interfaces = local_interfaces()
        addresses = sorted({a for i in interfaces for a in i["addresses"]
                            if i["endpoint"] != "LOCALHOST"})
        if interfaces != self._interfaces:
            self.topo.register_host(self.host_id, self.name, addresses, interfaces)
            self._interfaces = interfaces
        self.topo.heartbeat(self.host_id, self.ttl_ms)

    def start(self) -> None:
        self.register()
        self._thread = threading.Thread(target=self._run, name="host-presence", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        beats = 0
        while not self._stop.wait(self.ttl_ms / 3000):
            beats += 1
            try:
                if beats % 30 == 0:
                    self.register()  # interfaces may have changed
                else:
                    self.topo.heartbeat(self.host_id, self.ttl_ms)
            except Exception:  # noqa: BLE001 - keep beating through store outages
                LOG.warning("heartbeat to the topology store failed", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        try:
            self.topo.host_down(self.host_id)
        except Exception:  # noqa: BLE001 - the store may be gone already
            LOG.debug("could not mark host down", exc_info=True)
