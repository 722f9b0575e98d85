"""The WSGI layer on its own: body limits, truncated bodies, URI base, strict routes."""

from __future__ import annotations

import io
import json
from typing import Any

import webob

from ryu_midonet.rest.wsgi import Reply, Request, WsgiApp

ERROR_V1 = "application/vnd.org.midonet.Error-v1+json"


def echo_app(max_body_bytes: int = 1024, public_url: str | None = None) -> WsgiApp:
    app = WsgiApp("/midonet-api", public_url=public_url, max_body_bytes=max_body_bytes)

    def echo(req: Request) -> Reply:
        return Reply(201, {"body": req.body, "params": req.params},
                     location=f"{req.base}/things/{req.params.get('id', 'new')}")

    app.add("POST", "/things", echo, "application/json")
    app.add("GET", "/things/{id}", echo, "application/json")
    return app


def send(app: WsgiApp, method: str, path: str, body: bytes | None = None,
         **environ: Any) -> webob.Response:
    req = webob.Request.blank("http://api.test/midonet-api" + path, method=method)
    if body is not None:
        req.body = body
        req.content_type = "application/json"
    req.environ.update(environ)
    return req.get_response(app)


def test_announced_length_over_the_limit_is_a_413_without_reading() -> None:
    unread = io.BytesIO(b"{}")
    resp = send(echo_app(), "POST", "/things", b"{}", CONTENT_LENGTH="5000",
                **{"wsgi.input": unread})
    assert resp.status_int == 413
    assert resp.content_type == ERROR_V1
    assert json.loads(resp.body)["code"] == 413
    assert unread.tell() == 0


def test_body_shorter_than_its_length_is_a_400() -> None:
    resp = send(echo_app(), "POST", "/things", b'{"a": 1}', CONTENT_LENGTH="100",
                **{"wsgi.input": io.BytesIO(b'{"a": 1}')})
    assert resp.status_int == 400
    assert "ended after 8 of 100 bytes" in json.loads(resp.body)["message"]


def unsized(body: bytes) -> webob.Request:
    """A POST whose body has no Content-Length (as a chunked one reaches the application)."""
    req = webob.Request.blank("http://api.test/midonet-api/things", method="POST",
                              headers={"Content-Type": "application/json"})
    req.environ.pop("CONTENT_LENGTH", None)
    req.environ.update({"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True})
    return req


def test_body_without_length_is_bounded() -> None:
    resp = unsized(b'{"a": "' + b"x" * 2000 + b'"}').get_response(echo_app())
    assert resp.status_int == 413
    resp = unsized(b'{"a": "small"}').get_response(echo_app())
    assert resp.status_int == 201
    assert json.loads(resp.body)["body"] == {"a": "small"}


def test_uris_come_from_the_public_url_or_the_server_address() -> None:
    resp = send(echo_app(public_url="https://api.example.net/"), "POST", "/things", b"{}",
                HTTP_HOST="evil.example")
    assert resp.headers["Location"] == "https://api.example.net/midonet-api/things/new"
    resp = send(echo_app(), "POST", "/things", b"{}", HTTP_HOST="evil.example",
                SERVER_NAME="192.0.2.7", SERVER_PORT="8181")
    assert resp.headers["Location"] == "http://192.0.2.7:8181/midonet-api/things/new"


def test_path_parameters_must_be_clean_segments() -> None:
    app = echo_app()
    assert send(app, "GET", "/things/abc").status_int == 201
    assert send(app, "GET", "/things/abc/").status_int == 201
    for bad in ("/things/abc%0A", "/things/%0A", "/things/a%09b", "/things/a%00"):
        assert send(app, "GET", bad).status_int == 404, bad
