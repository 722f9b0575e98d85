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

    def register(self, force: bool = False) -> None:
        """Write the host record when it changed (or ``force``), then beat once."""
        interfaces = local_interfaces()
        addresses = sorted({a for i in interfaces for a in i["addresses"]
                            if i["endpoint"] != "LOCALHOST"})
        if force or interfaces != self._interfaces:
            self.topo.register_host(self.host_id, self.name, addresses, interfaces)
            self._interfaces = interfaces
        if not self.topo.heartbeat(self.host_id, self.ttl_ms) and not force:
            self.register(force=True)

    def beat(self, beats: int = 0) -> None:
        """One heartbeat; registers again when the store lost the host or its interfaces
        changed (checked every 30 beats)."""
        if beats % 30 == 0:
            self.register()
        elif not self.topo.heartbeat(self.host_id, self.ttl_ms):
            LOG.warning("the topology store lost host %s; registering it again",
                        self.host_id)
            self.register(force=True)

    def start(self) -> None:
        self.register()
        self._thread = threading.Thread(target=self._run, name="host-presence", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        beats = 0
        failing = False
        while not self._stop.wait(self.ttl_ms / 3000):
            beats += 1
            try:
                self.beat(0 if failing else beats)  # after an outage: register at once
                if failing:
                    LOG.warning("the topology store is back; host %s is alive again",
                                self.host_id)
                failing = False
            except Exception as exc:  # noqa: BLE001 - keep beating through store outages
                if not failing:
                    LOG.warning("heartbeat to the topology store failed (%s); retrying", exc)
                failing = True

    def stop(self) -> None:
        self._stop.set()
        try:
            self.topo.host_down(self.host_id)
        except Exception:  # noqa: BLE001 - the store may be gone already
            LOG.debug("could not mark host down", exc_info=True)
