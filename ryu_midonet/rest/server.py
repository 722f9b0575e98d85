"""Serving the REST API over HTTP with waitress: a bounded thread pool, client timeouts, a
real listen backlog and a request size limit."""

from __future__ import annotations

import json
import logging
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from ryu_midonet.auth import Auth
from ryu_midonet.nsdb.store import Store
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.rest.api import Api
from ryu_midonet.rest.auth import BUILTIN, protect
from ryu_midonet.rest.wsgi import ERROR_MEDIA_TYPE, error_response

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("ryu_midonet.rest.access")
DEFAULT_MAX_BODY_BYTES = 1 << 20


def build_app(redis_url: str, prefix: str = "mn", *, public_url: str | None = None,
              max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
              auth_strategy: str = BUILTIN) -> Callable[..., Any]:
    """The WSGI application of the API on the topology store at ``redis_url``, behind
    token authentication unless ``auth_strategy`` is ``noauth``.

    ``public_url`` (``http://host:port``) is the base of every ``uri`` and ``Location``;
    bodies larger than ``max_body_bytes`` are refused with 413.
    """
    app = Api(Topology(Store.from_url(redis_url, prefix))).app
    app.public_url = public_url
    app.max_body_bytes = max_body_bytes
    return protect(app, Auth.from_url(redis_url, prefix), auth_strategy)


def default_public_url(host: str, port: int) -> str:
    """``http://host:port`` for a listener on ``host``; a wildcard address (0.0.0.0, ::)
    becomes this machine's fully qualified name, which clients elsewhere can reach."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def public_url_error(url: str) -> str | None:
    """Why ``url`` cannot be the base of the API's URIs (None when it can)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"wsapi_public_url {url!r} is not an http:// or https:// URL with a host"
    if parts.query or parts.fragment:
        return f"wsapi_public_url {url!r} must not have a query or a fragment"
    return None


@dataclass(frozen=True)
class ServerOptions:
    """How the HTTP server treats its clients (see the ``wsapi_*`` options)."""

    threads: int = 8
    backlog: int = 1024
    client_timeout: int = 60
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_connections: int = 1000


class ErrorV1Task(ErrorTask):
    """Errors the server answers before the application runs (413, malformed HTTP), as
    the API's own Error-v1 JSON bodies."""

    def execute(self) -> None:
        error = self.request.error
        body = json.dumps({"message": f"{error.reason}: {error.body}",
                           "code": error.code}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", ERROR_MEDIA_TYPE))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class ApiChannel(HTTPChannel):  # type: ignore[misc]
    error_task_class = ErrorV1Task


class _Listener(TcpWSGIServer):  # type: ignore[misc]
    channel_class = ApiChannel


class ApiServer:
    """The API's HTTP server: ``serve_forever`` in one thread, ``shutdown`` from another."""

    def __init__(self, host: str, port: int, app: Callable[..., Any],
                 options: ServerOptions = ServerOptions()) -> None:
        timeout = options.client_timeout
        self.adj = Adjustments(
            host=host, port=port, threads=options.threads, backlog=options.backlog,
            channel_timeout=timeout, cleanup_interval=max(1, min(30, timeout // 2)),
            max_request_body_size=options.max_body_bytes,
            connection_limit=options.max_connections, asyncore_use_poll=True,
            ident="ryu-midonet", expose_tracebacks=False)
        self._map: dict[int, Any] = {}
        _raise_file_limit(options.max_connections + 256)
        self.workers = ThreadedTaskDispatcher()
        self.workers.set_thread_count(options.threads)
        # One listening socket per address the host resolves to (localhost: 127.0.0.1, ::1).
        served = AccessLog(RequestGuard(app))
        self.listeners = [_Listener(served, map=self._map, dispatcher=self.workers,
                                    adj=self.adj, sockinfo=info) for info in self.adj.listen]
        self.addresses = [_address(lst.effective_host, int(lst.effective_port))
                          for lst in self.listeners]
        self._stop = threading.Event()
        self._running = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`; then close every connection and the workers."""
        self._running.set()
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=self.adj.asyncore_loop_timeout, map=self._map,
                               use_poll=True, count=1)
        finally:
            self._close()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop serving and wait (at most ``timeout`` seconds) for the loop to end."""
        self._stop.set()
        if not self._running.is_set():
            self._close()
            return
        try:
            self.listeners[0].pull_trigger()
        except OSError:
            pass
        self._stopped.wait(timeout)

    def _close(self) -> None:
        self.workers.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(self._map)
        self._stopped.set()


class RequestGuard:
    """What every layer of the application may take for granted: a UTF-8 path (else 400),
    and an Error-v1 500 instead of a crash when a layer fails anyway."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        except UnicodeError:
            resp = error_response(400, "the request path is not UTF-8 once percent-decoded")
            return resp(environ, start_response)
        try:
            return self.app(environ, start_response)
        except Exception:  # noqa: BLE001 - answer, and log the path without control characters
            LOG.exception("unhandled error on %s %s", environ.get("REQUEST_METHOD"),
                          _printable(environ.get("PATH_INFO", "")))
            resp = error_response(500, "internal error; see the API log")
            failure = sys.exc_info()
            return resp(environ, lambda status, headers: start_response(status, headers,
                                                                         failure))


class AccessLog:
    """One log line per request: client, method, path, status, bytes and duration."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start = time.monotonic()
        status = ["-"]

        def logged_start(code: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, *exc)

        # The target as the client wrote it (percent-encoded): no line breaks in the log.
        target = quote(environ.get("PATH_INFO", "").encode("latin-1", "replace"),
                       safe="/:@!$&'()*+,;=-._~")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        body = self.app(environ, logged_start)
        return _Logged(body, lambda size: ACCESS_LOG.info(
            '%s "%s %s" %s %d %.1fms', environ.get("REMOTE_ADDR", "-"),
            environ.get("REQUEST_METHOD"), _printable(target),
            status[0], size, (time.monotonic() - start) * 1000))


class _Logged:
    """A response body that reports its size once it has been sent."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self.body, self.done, self.size = body, done, 0

    def __iter__(self) -> Any:
        for chunk in self.body:
            self.size += len(chunk)
            yield chunk

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()
        self.done(self.size)


def _printable(text: str) -> str:
    """``text`` with control and non-ASCII characters escaped, for one log line."""
    return text.encode("unicode_escape").decode("ascii")


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _raise_file_limit(wanted: int) -> None:
    """Let the process hold ``wanted`` open files when the hard limit allows it."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, limit), hard))
    except (ValueError, OSError):
        LOG.warning("cannot raise the open file limit to %d", wanted)
