"""Serving the REST API over HTTP with a threaded WSGI server."""

from __future__ import annotations

import logging
import socketserver
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.rest.api import Api

LOG = logging.getLogger(__name__)


class ThreadingWsgiServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per request, so a slow client never blocks the others."""

    daemon_threads = True
    allow_reuse_address = True


class LoggingHandler(WSGIRequestHandler):
    """Access log lines go to the logging module instead of stderr."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        LOG.info("%s %s", self.address_string(), format % args)


def build_app(redis_url: str, prefix: str = "mn") -> Callable[..., Any]:
    """The WSGI application of the API on the topology store at ``redis_url``."""
    return Api(Topology(Store.from_url(redis_url, prefix))).app


def make_api_server(host: str, port: int, app: Callable[..., Any]) -> WSGIServer:
    return make_server(host, port, app, ThreadingWsgiServer, LoggingHandler)
