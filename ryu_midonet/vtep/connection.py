"""A connection to one VTEP's ``hardware_vtep`` database through ovsdbapp.

ovsdbapp keeps one connection per API class, so each connection gets a class of its own. The
IDL reconnects by itself after the database goes away; :meth:`connected` tells whether it is
connected now.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.hardware_vtep.impl_idl import HwVtepApiIdlImpl

from ryu_midonet.vtep import sync
from ryu_midonet.vtep.desired import Wanted

LOG = logging.getLogger(__name__)

SCHEMA = "hardware_vtep"


class VtepConnection:
    """The database of the VTEP at ``ip``:``port``; raises (within ``timeout`` seconds for
    the first connection) when it cannot be reached."""

    def __init__(self, ip: str, port: int, timeout: int = 5) -> None:
        self.ip = ip
        self.target = f"tcp:{ip}:{port}"
        # ovsdbapp fetches the schema with a blocking connect: fail fast when unreachable
        socket.create_connection((ip, port), timeout=timeout).close()
        idl = connection.OvsdbIdl.from_server(self.target, SCHEMA)
        self.conn = connection.Connection(idl=idl, timeout=timeout)
        api_class = type("VtepApi", (HwVtepApiIdlImpl,), {"_ovsdb_connection": None})
        self.api: Any = api_class(self.conn)

    def connected(self) -> bool:
        session = getattr(self.conn.idl, "_session", None)  # python-ovs keeps it private
        return bool(session is not None and session.is_connected())

    def read(self) -> tuple[sync.SwitchInfo | None, dict[str, set[str]]]:
        """The physical switch and our logical switches' local MACs."""
        with self.conn.lock:
            return sync.read_switch(self.api, self.ip), sync.local_macs(self.api)

    def remote_macs(self) -> dict[str, dict[str, str]]:
        with self.conn.lock:
            return sync.remote_macs(self.api)

    def apply(self, wanted: Wanted) -> None:
        with self.api.transaction(check_error=True) as txn:
            txn.add(sync.SyncVtep(self.api, self.ip, wanted))

    def close(self) -> None:
        try:
            self.conn.stop(timeout=2)
        except Exception:  # noqa: BLE001 - closing a broken connection
            LOG.debug("closing %s", self.target, exc_info=True)
