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
MAX_JSON_DEPTH = 32  # arrays and objects nested deeper than this are refused (400)
# A path parameter: one segment without control characters or white space.
PARAM = r"[^/\x00-\x20\x7f]+"


def media_type(name: str, version: int, collection: bool = False) -> str:
    return f"{VENDOR}{'collection.' if collection else ''}{name}-v{version}+json"


@dataclass
class Request:
    """What a handler gets: path parameters, query, parsed body and the base URI."""

    params: dict[str, str]
    query: dict[str, str]
    body: Any
    base: str  # e.g. http://127.0.0.1:8181/midonet-api (configured, never the Host header)
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
        pattern = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m[1]}>{PARAM})",
                         self.template.rstrip("/"))
        self.regex = re.compile(f"{pattern}/?")  # used with fullmatch: no trailing newline


class ApiError(Exception):
    """An error reply that is not a store error (bad JSON, unknown URI, wrong media type)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WsgiApp:
    """Dispatches requests under ``root`` (``/midonet-api``) to the registered routes.

    ``public_url`` (``http://host:port``) is the base of every URI the API hands out; without
    it the server's own address (``SERVER_NAME``/``SERVER_PORT``) is used, never the
    request's ``Host`` header. Bodies over ``max_body_bytes`` are refused with 413.
    """

    def __init__(self, root: str = "/midonet-api", public_url: str | None = None,
                 max_body_bytes: int = 1 << 20) -> None:
        self.root = root.rstrip("/")
        self.routes: list[Route] = []
        self.public_url = public_url
        self.max_body_bytes = max_body_bytes

    def add(self, method: str, template: str, handler: Handler, media: str | None = None,
            summary: str = "", accepts: tuple[str, ...] = ()) -> None:
        self.routes.append(Route(method, template, handler, media, summary, accepts))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        req = webob.Request(environ)
        where = environ.get("PATH_INFO", "").encode("unicode_escape").decode("ascii")
        try:
            resp = self._dispatch(req)
        except ApiError as exc:
            resp = error_response(exc.status, exc.message)
        except errors.NsdbError as exc:
            resp = error_response(exc.status, exc.message, exc.field)
        except Exception as exc:  # noqa: BLE001 - one bad request must never take the API down
            if errors.unavailable(exc):
                LOG.warning("%s %s: the topology store is unavailable: %s", req.method,
                            where, exc)
                resp = unavailable_response(exc)
            else:
                LOG.exception("unhandled error on %s %s", req.method, where)
                resp = error_response(500, "internal error; see the API log")
        return resp(environ, start_response)

    def _dispatch(self, req: webob.Request) -> webob.Response:
        try:
            path = req.path_info
        except UnicodeDecodeError:
            raise ApiError(400, "the request path is not UTF-8 once percent-decoded") from None
        if not (path == self.root or path.startswith(self.root + "/")):
            raise ApiError(404, f"no resource at {path}")
        sub = path[len(self.root):] or "/"
        matched = [(r, m) for r in self.routes if (m := r.regex.fullmatch(sub))]
        if not matched:
            raise ApiError(404, f"no resource at {path}")
        method = "GET" if req.method == "HEAD" else req.method
        for route, m in matched:
            if route.method == method:
                return self._run(route, m.groupdict(), req)
        allowed = sorted({r.method for r, _ in matched}
                         | ({"HEAD"} if any(r.method == "GET" for r, _ in matched) else set()))
        resp = error_response(405, f"{req.method} is not allowed on {path}; use "
                                   f"{', '.join(allowed)}")
        resp.headers["Allow"] = ", ".join(allowed)
        return resp

    def _run(self, route: Route, params: dict[str, str], req: webob.Request) -> webob.Response:
        body = None
        if req.method in ("POST", "PUT"):
            _check_content_type(route, req)
            raw = _read_body(req, self.max_body_bytes)
            if ANY_BODY not in route.accepts:
                body = _parse_json(raw)
        base = self._public_url(req) + self.root
        try:
            query = dict(req.GET)
        except UnicodeDecodeError:
            raise ApiError(400, "the query string is not UTF-8 once percent-decoded") from None
        reply = route.handler(Request(params, query, body, base, req))
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

    def _public_url(self, req: webob.Request) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        env = req.environ
        scheme, host, port = env["wsgi.url_scheme"], env["SERVER_NAME"], env["SERVER_PORT"]
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        default = {"http": "80", "https": "443"}.get(scheme)
        return f"{scheme}://{host}" + ("" if port == default else f":{port}")


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
    """The version of the route's media type the client asked for; never a wildcard."""
    accept = req.headers.get("Accept", "")
    for item in accept.split(","):
        wanted = item.split(";")[0].strip()
        if "*" not in wanted and any(_same_family(wanted.lower(), m)
                                     for m in (route.media, *route.accepts) if m != ANY_BODY):
            return wanted
    return route.media or JSON


def _read_body(req: webob.Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes and with 400 when the
    client sent fewer bytes than its Content-Length announced."""
    length = req.content_length
    if length is not None and length > limit:
        raise ApiError(413, f"request body of {length} bytes exceeds the limit of {limit}")
    try:
        if length is None:  # chunked, or no length: read at most one byte past the limit
            raw = req.body_file_raw.read(limit + 1) if req.is_body_readable else b""
            if len(raw) > limit:
                raise ApiError(413, f"request body exceeds the limit of {limit} bytes")
            return bytes(raw)
        raw = req.body_file_raw.read(length)
    except OSError as exc:
        raise ApiError(400, f"the request body could not be read: {exc}") from None
    if len(raw) < length:
        raise ApiError(400, f"the request body ended after {len(raw)} of {length} bytes")
    return bytes(raw)


def _parse_json(raw: bytes) -> Any:
    """The JSON object of a request body (an empty body is an empty object)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the request body is not UTF-8: {exc}") from None
    if not text:
        return {}
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ApiError(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise ApiError(400, f"malformed JSON in request body: {exc}") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "the request body must be a JSON object")
    if _depth(doc) > MAX_JSON_DEPTH:
        raise ApiError(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(doc: Any) -> int:
    """How deeply arrays and objects nest in ``doc`` (without recursion)."""
    deepest, todo = 0, [(doc, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level)
        if level <= MAX_JSON_DEPTH:
            todo.extend((child, level + 1) for child in item)
    return deepest


def unavailable_response(exc: BaseException) -> webob.Response:
    """The 503 for a store that cannot serve now (``errors.unavailable(exc)``): retry shortly."""
    unavailable = errors.StoreUnavailable(exc)
    resp = error_response(unavailable.status, unavailable.message)
    resp.headers["Retry-After"] = "1"
    return resp


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
