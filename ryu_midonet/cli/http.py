"""The HTTP client of the MidoNet v5 REST API: JSON bodies, vendor media types, tokens."""

from __future__ import annotations

import base64
import functools
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ryu_midonet.cli.errors import ApiError, ConnectionFailed

TIMEOUT = 30.0


@functools.cache
def _typed_writes() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(path pattern, media type) of every write that takes a typed body, read from the REST
    API's own routing table, so a kind registered there needs nothing here."""
    # Imported on the first write, not with the CLI: the REST package loads os-ken, which
    # reads and a CLI's start do not need.
    from ryu_midonet.rest.api import Api
    from ryu_midonet.rest.wsgi import ANY_BODY

    return tuple((route.regex, route.media) for route in Api.routes_only()
                 if route.method in ("POST", "PUT") and route.media
                 and ANY_BODY not in route.accepts)


def media_type(path: str) -> str:
    """The vendor media type of a body written to ``path`` (relative to the API root)."""
    target = "/" + path.split("?")[0].strip("/")
    for regex, media in _typed_writes():
        if regex.fullmatch(target):
            return media
    return "application/json"


class ApiClient:
    """Sends requests to ``base_url`` (``http://host:8181/midonet-api``)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._credentials: tuple[str, str, str | None] | None = None  # to log in again on a 401

    def url(self, path: str, query: dict[str, str] | None = None) -> str:
        url = f"{self.base_url}/{path.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def get(self, path: str, query: dict[str, str] | None = None) -> Any:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def request(self, method: str, path: str, body: Any = None,
                query: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Any:
        """Send one request; return the decoded JSON reply (``None`` when it has no body).

        A 401 (the token expired) logs in again once with the same credentials and resends.
        """
        try:
            return self._request(method, path, body, query, headers)
        except ApiError as exc:
            if exc.status != 401 or self._credentials is None or path.strip("/") == "login":
                raise
        self.login(*self._credentials)
        return self._request(method, path, body, query, headers)

    def _request(self, method: str, path: str, body: Any = None,
                 query: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> Any:
        data = None
        hdrs = {"Accept": "application/json, */*"}
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = media_type(path)
        if self.token:
            hdrs["X-Auth-Token"] = self.token
        hdrs.update(headers or {})
        req = urllib.request.Request(self.url(path, query), data=data, method=method,
                                     headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                raw = resp.read()
                token = resp.headers.get("X-Auth-Token") or _cookie_token(
                    resp.headers.get("Set-Cookie"))
        except urllib.error.HTTPError as exc:
            raise _api_error(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConnectionFailed(
                f"cannot reach the MidoNet API at {self.base_url}: {reason}") from None
        if path.strip("/") == "login":
            return _login_reply(raw, token)
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ConnectionFailed(f"{method} {path}: the API answered with a body that is "
                                   "not JSON") from None

    def login(self, user: str, password: str, project_id: str | None = None) -> str | None:
        """POST /login with HTTP Basic credentials; keep and return the token.

        An API without a login resource (404) is used without a token.
        """
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}"}
        if project_id:
            headers["X-Auth-Project"] = project_id
        try:
            reply = self.request("POST", "login", headers=headers)
        except ApiError as exc:
            if exc.status == 404:
                return None
            if exc.status in (401, 403):
                raise ApiError(exc.status, exc.reason,
                               f"authentication failed for user {user!r}") from None
            raise
        token = reply.get("key") if isinstance(reply, dict) else None
        self.token = token or None
        self._credentials = (user, password, project_id)
        return self.token


def _login_reply(raw: bytes, token: str | None) -> dict[str, Any]:
    """The token of a login reply: its JSON ``key``, else the header or cookie token."""
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = {}
    key = body.get("key") if isinstance(body, dict) else None
    return {"key": key or token}


def _cookie_token(cookie: str | None) -> str | None:
    """``sessionId=<token>; Expires=...`` -> the token (MidoNet's login sets this cookie)."""
    if not cookie:
        return None
    return cookie.partition(";")[0].partition("=")[2] or None


def _api_error(exc: urllib.error.HTTPError) -> ApiError:
    """The API's Error-v1 body (message, violations) as one :class:`ApiError`."""
    message, field = "", None
    try:
        body = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        body = {}
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        violations = body.get("violations") or []
        if violations and isinstance(violations[0], dict):
            field = violations[0].get("property")
            if not message:
                message = str(violations[0].get("message") or "")
    return ApiError(exc.code, exc.reason or "", message, field)
