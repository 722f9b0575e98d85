"""A small WSGI front end (webob): URI routing, media types, JSON bodies and Error-v1 replies."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import webob
import webob.exc

from ryu_midonet.nsdb import errors

LOG = logging.getLogger(__name__)

VENDOR = "application/vnd.org.midonet."
ERROR_MEDIA_TYPE = VENDOR + "Error-v1+json"
JSON = "application/json"
ANY_BODY = "*/*"  # in Route.accepts: the body is ignored, any Content-Type will do


def media_type(name: str, version: int, collection: bool = False) -> str:
    return f"{VENDOR}{'collection.' if collection else ''}{name}-v{version}+json"


@dataclass
class Request:
    """What a handler gets: path parameters, query, parsed body and the base URI."""

    params: dict[str, str]
    query: dict[str, str]
    body: Any
    base: str  # e.g. http://127.0.0.1:8181/midonet-api
    raw: webob.Request


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    location: str | None = None
    media: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


@dataclass
class Route:
    """One method on one URI template, e.g. ``GET /bridges/{id}/ports``."""

    method: str
    template: str
    handler: Handler
    media: str | None = None  # vendor media type of the body it returns or takes
    summary: str = ""
    accepts: tuple[str, ...] = ()  # request media types besides ``media`` and application/json
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template.rstrip("/"))
        self.regex = re.compile(f"^{pattern}/?$")


class ApiError(Exception):
    """An error reply that is not a store error (bad JSON, unknown URI, wrong media type)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WsgiApp:
    """Dispatches requests under ``root`` (``/midonet-api``) to the registered routes."""

    def __init__(self, root: str = "/midonet-api") -> None:
        self.root = root.rstrip("/")
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, media: str | None = None,
            summary: str = "", accepts: tuple[str, ...] = ()) -> None:
        self.routes.append(Route(method, template, handler, media, summary, accepts))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        req = webob.Request(environ)
        try:
            resp = self._dispatch(req)
        except ApiError as exc:
            resp = error_response(exc.status, exc.message)
        except errors.NsdbError as exc:
            resp = error_response(exc.status, exc.message, exc.field)
        except Exception as exc:  # noqa: BLE001 - one bad request must never take the API down
            if errors.unavailable(exc):
                LOG.warning("%s %s: the topology store is unavailable: %s", req.method,
                            req.path, exc)
                unavailable = errors.StoreUnavailable(exc)
                resp = error_response(unavailable.status, unavailable.message)
                resp.headers["Retry-After"] = "1"
            else:
                LOG.exception("unhandled error on %s %s", req.method, req.path)
                resp = error_response(500, "internal error; see the API log")
        return resp(environ, start_response)

    def _dispatch(self, req: webob.Request) -> webob.Response:
        path = req.path_info
        if not (path == self.root or path.startswith(self.root + "/")):
            raise ApiError(404, f"no resource at {path}")
        sub = path[len(self.root):] or "/"
        matched = [(r, m) for r in self.routes if (m := r.regex.match(sub))]
        if not matched:
            raise ApiError(404, f"no resource at {path}")
        method = "GET" if req.method == "HEAD" else req.method
        for route, m in matched:
            if route.method == method:
                return self._run(route, m.groupdict(), req)
        allowed = sorted({r.method for r, _ in matched})
        resp = error_response(405, f"{req.method} is not allowed on {path}; use "
                                   f"{', '.join(allowed)}")
        resp.headers["Allow"] = ", ".join(allowed)
        return resp

    def _run(self, route: Route, params: dict[str, str], req: webob.Request) -> webob.Response:
        body = None
        if req.method in ("POST", "PUT"):
            _check_content_type(route, req)
            body = _parse_json(req)
        base = req.host_url + self.root
        reply = route.handler(Request(params, dict(req.GET), body, base, req))
        resp = webob.Response(status=reply.status)
        if reply.location:
            resp.headers["Location"] = reply.location
        resp.headers.update(reply.headers)
        if reply.body is not None:
            resp.content_type = reply.media or _reply_media(route, req)
            resp.charset = None
            resp.body = json.dumps(reply.body).encode()
        elif reply.status == 200:
            resp.status = 204
        return resp


def _check_content_type(route: Route, req: webob.Request) -> None:
    if ANY_BODY in route.accepts:
        return
    ctype = (req.content_type or "").split(";")[0].strip().lower()
    allowed = {JSON, "", *(a.lower() for a in route.accepts)}
    if route.media:
        allowed.add(route.media.lower())
    if ctype not in allowed and not any(_same_family(ctype, m)
                                        for m in (route.media, *route.accepts)):
        raise ApiError(415, f"unsupported Content-Type {ctype!r}; send {route.media or JSON}")


def _same_family(ctype: str, media: str | None) -> bool:
    """Accept any version of the route's vendor type (v1 clients keep working)."""
    if not media:
        return False
    strip = re.compile(r"-v\d+\+json$")
    return bool(strip.sub("", ctype) == strip.sub("", media.lower()))


def _reply_media(route: Route, req: webob.Request) -> str:
    accept = req.headers.get("Accept", "")
    for item in accept.split(","):
        wanted = item.split(";")[0].strip()
        if any(_same_family(wanted.lower(), m) for m in (route.media, *route.accepts)):
            return wanted
    return route.media or JSON


def _parse_json(req: webob.Request) -> Any:
    raw = req.body
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"malformed JSON in request body: {exc}") from None


def error_response(status: int, message: str, field: str | None = None) -> webob.Response:
    """The MidoNet Error-v1 body: message, code and, for validation errors, violations."""
    body: dict[str, Any] = {"message": message, "code": status}
    if field:
        body["violations"] = [{"property": field, "message": message}]
    resp = webob.Response(status=status)
    resp.content_type = ERROR_MEDIA_TYPE
    resp.charset = None
    resp.body = json.dumps(body).encode()
    return resp
