"""Authentication and authorisation of the REST API: a WSGI middleware around the API.

``POST <root>/login`` is public (it checks HTTP Basic credentials itself, see
:mod:`ryu_midonet.rest.login`). Every other request needs a live token in the ``X-Auth-Token``
header or the ``sessionId`` cookie (401 otherwise); the ``readonly`` role may only GET and HEAD
(403 otherwise). With ``auth_strategy = noauth`` the API is left open, which is allowed only on a
loopback address.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from typing import Any

import webob

from ryu_midonet.auth import Auth, Identity, may
from ryu_midonet.nsdb import errors
from ryu_midonet.rest.wsgi import error_response, unavailable_response

LOG = logging.getLogger(__name__)

BUILTIN = "builtin"
NOAUTH = "noauth"
IDENTITY = "ryu_midonet.identity"  # the environ key the middleware leaves the identity in
TOKEN_HEADER = "X-Auth-Token"
COOKIE = "sessionId"
CHALLENGE = f'{TOKEN_HEADER} realm="midonet-api"'

WsgiCallable = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class StrategyRefused(Exception):
    """A configuration that must not serve: ``noauth`` on an address other than loopback."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_strategy(strategy: str, host: str) -> None:
    """Refuse ``noauth`` off loopback; warn when it is used."""
    if strategy == BUILTIN:
        return
    if strategy != NOAUTH:
        raise StrategyRefused(f"unknown auth_strategy {strategy!r}: use {BUILTIN} or {NOAUTH}")
    if not is_loopback(host):
        raise StrategyRefused(
            f"auth_strategy = noauth is refused with wsapi_host = {host}: without "
            "authentication the API may only listen on a loopback address (127.0.0.1, ::1)")
    LOG.warning("auth_strategy = noauth: the REST API at %s has no authentication; anyone "
                "on this host may read and change everything", host)


def request_token(req: webob.Request) -> str | None:
    """The token a request carries: the ``X-Auth-Token`` header, else the ``sessionId``
    cookie."""
    return req.headers.get(TOKEN_HEADER) or req.cookies.get(COOKIE) or None


class Protected:
    """Lets through requests with a valid token whose role allows the method."""

    def __init__(self, app: WsgiCallable, auth: Auth, root: str = "/midonet-api") -> None:
        self.app = app
        self.auth = auth
        self.login_paths = {f"{root.rstrip('/')}/login", f"{root.rstrip('/')}/login/"}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        req = webob.Request(environ)
        if req.method == "POST" and req.path_info in self.login_paths:
            return self.app(environ, start_response)
        try:
            identity = self._identify(req)
        except Exception as exc:  # noqa: BLE001 - answered like the API's own errors
            if not errors.unavailable(exc):
                LOG.exception("%s %s: cannot check the token", req.method, req.path)
                resp = error_response(500, "internal error; see the API log")
                return resp(environ, start_response)
            LOG.warning("%s %s: cannot check the token, the topology store is unavailable: "
                        "%s", req.method, req.path, exc)
            return unavailable_response(exc)(environ, start_response)
        if identity is None:
            resp = error_response(401, "authentication required: log in with POST "
                                       "/midonet-api/login (HTTP Basic) and send the token "
                                       f"as {TOKEN_HEADER}; an expired token needs a new login")
            resp.headers["WWW-Authenticate"] = CHALLENGE
            return resp(environ, start_response)
        if not may(identity.role, req.method):
            resp = error_response(403, f"user {identity.user!r} (role {identity.role}) may "
                                       f"not {req.method}; writes need the admin role")
            return resp(environ, start_response)
        environ[IDENTITY] = identity
        return self.app(environ, start_response)

    def _identify(self, req: webob.Request) -> Identity | None:
        token = request_token(req)
        return self.auth.identify(token) if token else None


def protect(app: WsgiCallable, auth: Auth, strategy: str = BUILTIN) -> WsgiCallable:
    """``app`` behind token authentication, or ``app`` itself with ``noauth``."""
    if strategy == NOAUTH:
        return app
    return Protected(app, auth)
