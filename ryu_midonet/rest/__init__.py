"""The MidoNet v5 REST API as an os-ken application.

``ryu-midonet-manager --redis-url redis://127.0.0.1:6379/0 ryu_midonet.rest`` serves it on
``--wsapi-host``/``--wsapi-port`` (127.0.0.1:8181 by default) under ``/midonet-api``, with
waitress (see :mod:`ryu_midonet.rest.server`) on native threads.
"""

from __future__ import annotations

import logging
from typing import Any

from os_ken.base import app_manager
from os_ken.lib import hub

from ryu_midonet import config
from ryu_midonet.nsdb.connect import redact
from ryu_midonet.rest.auth import StrategyRefused, check_strategy
from ryu_midonet.rest.server import (
    ApiServer,
    ServerOptions,
    build_app,
    default_public_url,
    public_url_error,
)

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
        if hub.HUB_TYPE != "native":
            LOG.error("the REST API runs on native threads: start it with OSKEN_HUB_TYPE=native "
                      "(ryu-midonet-manager's default), not %s", hub.HUB_TYPE)
            raise SystemExit(2)
        try:
            check_strategy(conf.auth_strategy, conf.wsapi_host)
        except StrategyRefused as exc:
            LOG.error("%s", exc)
            raise SystemExit(2) from None
        public_url = (conf.wsapi_public_url
                      or default_public_url(conf.wsapi_host, conf.wsapi_port)).rstrip("/")
        problem = public_url_error(public_url)
        if problem:
            LOG.error("%s", problem)
            raise SystemExit(2)
        app = build_app(conf.redis_url, conf.nsdb_prefix, auth_strategy=conf.auth_strategy,
                        public_url=public_url, max_body_bytes=conf.wsapi_max_body_bytes)
        options = ServerOptions(threads=conf.wsapi_threads, backlog=conf.wsapi_backlog,
                                client_timeout=conf.wsapi_client_timeout,
                                max_body_bytes=conf.wsapi_max_body_bytes,
                                max_connections=conf.wsapi_max_connections)
        self.server = ApiServer(conf.wsapi_host, conf.wsapi_port, app, options)
        LOG.info("REST API listening on %s, serving %s/midonet-api (store %s, %d threads)",
                 ", ".join(self.server.addresses), public_url, redact(conf.redis_url),
                 options.threads)
        self.thread = hub.spawn(self.server.serve_forever)
        return self.thread

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
        super().stop()
