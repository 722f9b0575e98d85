"""A tiny os-ken application that ``test_manager.py`` starts under ryu-midonet-manager.

On start it writes, as JSON, the configuration values it sees to the file named by the
``RYU_MIDONET_PROBE_FILE`` environment variable; on close it writes ``<that file>.closed``.
It is not a test module (no ``test_`` prefix), so pytest does not collect it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from os_ken.base import app_manager

PROBE_FILE_ENV = "RYU_MIDONET_PROBE_FILE"


class ManagerProbeApp(app_manager.OSKenApp):
    """Reports the options it was started with, and that it was closed."""

    def _probe_path(self) -> Path:
        return Path(os.environ[PROBE_FILE_ENV])

    def start(self):  # type: ignore[no-untyped-def]
        super().start()
        conf = self.CONF
        seen = {
            "pid": os.getpid(),
            "redis_url": conf.redis_url,
            "wsapi_host": conf.wsapi_host,
            "wsapi_port": conf.wsapi_port,
            "nsdb_prefix": conf.nsdb_prefix,
            "ofp_tcp_listen_port": conf.ofp_tcp_listen_port,
            "verbose": conf.verbose,
        }
        path = self._probe_path()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(seen))
        tmp.replace(path)
        # Hand the event loop to the manager as this app's service thread, so the
        # manager keeps running until it is told to stop.
        return self.threads[0]

    def close(self) -> None:
        Path(f"{self._probe_path()}.closed").write_text("closed\n")
