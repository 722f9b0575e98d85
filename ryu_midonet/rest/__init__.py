"""The MidoNet v5 REST API as an os-ken application.

``ryu-midonet-manager --redis-url redis://127.0.0.1:6379/0 ryu_midonet.rest`` serves it on
``--wsapi-host``/``--wsapi-port`` (127.0.0.1:8181 by default) under ``/midonet-api``.
"""

from __future__ import annotations

import logging
from typing import Any

from os_ken.base import app_manager
from os_ken.lib import hub

from ryu_midonet import config
from ryu_midonet.rest.server import build_app, make_api_server

LOG = logging.getLogger(__name__)


class RestApiApp(app_manager.OSKenApp):
    """Serves /midonet-api from the topology store named by ``redis_url``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config.register_opts(self.CONF)
        self.server = None
        self.thread = None

    def start(self) -> Any:
        super().start()
        conf = self.CONF
        app = build_app(conf.redis_url, conf.nsdb_prefix)
        listen = (conf.wsapi_host, conf.wsapi_port)
        if hub.HUB_TYPE == "eventlet":
            # green threads: eventlet's own WSGI server, as os-ken apps always used
            self.server = hub.WSGIServer(listen, app)
        else:
            self.server = make_api_server(*listen, app)
        LOG.info("REST API listening on http://%s:%s/midonet-api (store %s)",
                 conf.wsapi_host, conf.wsapi_port, conf.redis_url)
        self.thread = hub.spawn(self.server.serve_forever)
        return self.thread

    def stop(self) -> None:
        if hasattr(self.server, "shutdown"):
            self.server.shutdown()
            self.server.server_close()
        elif self.thread is not None:
            hub.kill(self.thread)
        super().stop()
