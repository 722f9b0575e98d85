"""The REST API's HTTP server as clients meet it: a real ``ryu-midonet-manager`` process,
spoken to over real sockets (bad JSON, truncated and oversized bodies, forged Host headers,
idle connections)."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from tests.conftest import _console_script, _stop, find_free_port
from tests.integration.rest_call import call
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ERROR_V1 = "application/vnd.org.midonet.Error-v1+json"
START_TIMEOUT = 30.0


def auth_headers(api_url: str) -> dict[str, str]:
    """``X-Auth-Token`` for ``api_url`` when the tests log in to it (authentication on)."""
    try:
        from tests.support import credentials
    except ImportError:
        return {}
    login = getattr(credentials, "login_of", lambda url: None)(api_url)
    return {"X-Auth-Token": credentials.token_of(api_url)} if login else {}


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(api_url: str, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> Reply:
    """One request on a fresh connection, with exactly the given headers (and the token)."""
    parts = urlsplit(api_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, parts.path + path, body=body,
                     headers={**auth_headers(api_url), **(headers or {})})
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def raw_exchange(api_url: str, head: bytes, body: bytes, half_close: bool) -> bytes:
    """Send ``head`` and ``body`` on a plain socket (optionally closing our side) and return
    whatever the server answers before it closes the connection."""
    parts = urlsplit(api_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def post_head(api_url: str, path: str, length: int, extra: str = "") -> bytes:
    parts = urlsplit(api_url)
    token = "".join(f"{k}: {v}\r\n" for k, v in auth_headers(api_url).items())
    return (f"POST {parts.path}{path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{token}"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n").encode()


def status_of(raw: bytes) -> int | None:
    """The status code of a raw HTTP reply, None when the server sent nothing."""
    if not raw:
        return None
    return int(raw.split(b" ", 2)[1])


def bridges(api_url: str) -> list[Any]:
    status, body = call("GET", f"{api_url}/bridges")
    assert status == 200, body
    return list(body)


# -- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 900, 100_000])
def test_deeply_nested_json_is_a_400(api_url: str, depth: int) -> None:
    nested = b'{"name": "b", "x": ' + b"[" * depth + b"]" * depth + b"}"
    reply = request(api_url, "POST", "/bridges", nested, {"Content-Type": "application/json"})
    assert reply.status == 400, reply.body[:300]
    assert reply.headers["Content-Type"] == ERROR_V1
    assert "nested deeper" in reply.json()["message"]
    assert bridges(api_url) == []


@pytest.mark.parametrize("body, message", [
    (b"\xff\xfe{\x00}\x00", "not UTF-8"),
    (b"[1, 2]", "must be a JSON object"),
    (b'"bridge"', "must be a JSON object"),
    (b"null", "must be a JSON object"),
    (b'{"name": NaN}', "NaN"),
    (b'{"name": ', "malformed JSON"),
])
def test_bodies_that_are_not_a_json_object_are_a_400(api_url: str, body: bytes,
                                                      message: str) -> None:
    reply = request(api_url, "POST", "/bridges", body, {"Content-Type": "application/json"})
    assert reply.status == 400, reply.body
    assert reply.headers["Content-Type"] == ERROR_V1
    assert message in reply.json()["message"]
    assert bridges(api_url) == []


def test_truncated_body_is_not_a_server_error(api_url: str) -> None:
    # The client announces 1000 bytes, sends 20 and closes its side.
    raw = raw_exchange(api_url, post_head(api_url, "/bridges", 1000), b'{"name": "truncated"',
                       half_close=True)
    assert status_of(raw) in (None, 400), raw
    assert bridges(api_url) == []
    assert call("GET", f"{api_url}/")[0] == 200


def test_oversized_body_is_a_413_before_it_is_read(api_url: str) -> None:
    # 100 MB announced, 64 KiB sent: the answer comes without the rest, and names the limit.
    raw = raw_exchange(api_url, post_head(api_url, "/bridges", 100 * 1024 * 1024),
                       b" " * 65536, half_close=False)
    assert status_of(raw) == 413, raw[:500]
    head, _, body = raw.partition(b"\r\n\r\n")
    assert f"Content-Type: {ERROR_V1}".encode() in head
    assert json.loads(body)["code"] == 413
    assert bridges(api_url) == []


def test_oversized_chunked_body_is_a_413(api_url: str) -> None:
    parts = urlsplit(api_url)
    token = "".join(f"{k}: {v}\r\n" for k, v in auth_headers(api_url).items())
    head = (f"POST {parts.path}/bridges HTTP/1.1\r\nHost: {parts.netloc}\r\n{token}"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
    raw = raw_exchange(api_url, head, chunk * 40 + b"0\r\n\r\n", half_close=False)
    assert status_of(raw) == 413, raw[:500]
    assert bridges(api_url) == []


# -- routing and headers ---------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("GET", "/hosts/%0A"),
    ("GET", "/hosts%0A"),
    ("GET", "/bridges/%0A"),
    ("POST", "/bridges/%0A"),
    ("POST", "/bridges%0A"),
    ("GET", "/bridges/%20"),
])
def test_paths_with_control_characters_match_no_route(api_url: str, method: str,
                                                      path: str) -> None:
    body = b'{"name": "n"}' if method == "POST" else None
    reply = request(api_url, method, path, body, {"Content-Type": "application/json"})
    assert reply.status == 404, reply.body
    assert reply.headers["Content-Type"] == ERROR_V1
    assert bridges(api_url) == []


@pytest.mark.parametrize("path, message", [
    ("/bridges/%ff", "request path is not UTF-8"),
    ("/%ff%fe", "request path is not UTF-8"),
    ("/bridges?name=%ff", "query string is not UTF-8"),
    ("/bridges?%ff=1", "query string is not UTF-8"),
])
def test_paths_and_queries_that_are_not_utf8_are_a_400(api_url: str, path: str,
                                                       message: str) -> None:
    reply = request(api_url, "GET", path)
    assert reply.status == 400, reply.body
    assert reply.headers["Content-Type"] == ERROR_V1
    assert message in reply.json()["message"]


def test_a_login_path_that_is_not_utf8_is_a_400_without_a_token(api_url: str) -> None:
    parts = urlsplit(api_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", f"{parts.path}/login%ff", body=b"")
        resp = conn.getresponse()
        assert resp.status == 400
        assert "not UTF-8" in json.loads(resp.read())["message"]
    finally:
        conn.close()


def test_uris_and_location_ignore_the_host_header(api_url: str) -> None:
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example",
              "Content-Type": "application/json"}
    root = request(api_url, "GET", "/", headers=forged)
    assert root.status == 200
    assert root.json()["uri"] == f"{api_url}/"
    assert "evil" not in root.body.decode()

    created = request(api_url, "POST", "/bridges", b'{"name": "b1"}', forged)
    assert created.status == 201, created.body
    location = created.headers["Location"]
    assert location.startswith(f"{api_url}/bridges/")
    assert created.json()["uri"] == location
    listed = request(api_url, "GET", "/bridges", headers=forged)
    assert "evil" not in listed.body.decode()
    assert [b["uri"] for b in listed.json()] == [location]


def test_wildcard_accept_gets_a_concrete_content_type(api_url: str) -> None:
    try:
        from tests.support import credentials
        login = credentials.login_of(api_url)
        basic = {"Authorization": credentials.basic(login.user, login.password)} if login else {}
    except ImportError:
        basic = {}
    parts = urlsplit(api_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", f"{parts.path}/login", body=b"",
                     headers={"Accept": "*/*", **basic})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
        assert "*" not in resp.headers["Content-Type"]
        assert resp.headers["Content-Type"].startswith("application/")
    finally:
        conn.close()
    for accept in ("*/*", "application/*", "application/vnd.org.midonet.*"):
        reply = request(api_url, "GET", "/bridges", headers={"Accept": accept})
        assert reply.status == 200
        assert "*" not in reply.headers["Content-Type"], accept


def test_wrong_method_is_a_405_with_allow_and_head_works(api_url: str) -> None:
    reply = request(api_url, "DELETE", "/bridges")
    assert reply.status == 405
    assert reply.headers["Content-Type"] == ERROR_V1
    assert set(reply.headers["Allow"].split(", ")) >= {"GET", "HEAD", "POST"}

    get = request(api_url, "GET", "/")
    head = request(api_url, "HEAD", "/")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


# -- an API of our own: short client timeout, a store behind a password -----------------------


@dataclass
class OwnApi:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    password: str

    def threads(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines()
                        if line.startswith("Threads:")))


def start_api(store_url: str, log: Path, *flags: str) -> tuple[subprocess.Popen[bytes], str]:
    """``ryu-midonet-manager ... ryu_midonet.rest`` without authentication, on loopback;
    returns once it answers."""
    port = find_free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [_console_script("ryu-midonet-manager"), "--redis-url", store_url,
             "--wsapi-port", str(port), "--auth-strategy", "noauth", *flags,
             "ryu_midonet.rest"], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/midonet-api"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc)
                pytest.fail(f"the API did not start; its log:\n{log.read_text()}",
                            pytrace=False)
            time.sleep(0.1)


@pytest.fixture(scope="module")
def own_api(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnApi]:
    """An API on the session's redis-server as a user with a password, closing idle clients
    after 2 seconds, with 4 worker threads and no authentication (on loopback)."""
    password = "Api-Store-Secret-7d1f"
    admin = redis.Redis.from_url(redis_server)
    admin.acl_setuser("apistore", enabled=True, passwords=[f"+{password}"],
                      keys=["*"], channels=["*"], commands=["+@all"])
    admin.close()
    server = urlsplit(redis_server)
    store_url = f"redis://apistore:{password}@{server.hostname}:{server.port}/0"
    log = tmp_path_factory.mktemp("own-api") / "api.log"
    proc, url = start_api(store_url, log, "--wsapi-client-timeout", "2",
                          "--wsapi-threads", "4")
    try:
        yield OwnApi(url, proc, log, password)
    finally:
        _stop(proc)
        admin = redis.Redis.from_url(redis_server)
        admin.acl_deluser("apistore")
        admin.close()


def test_store_password_never_reaches_the_log(own_api: OwnApi) -> None:
    status, body = call("POST", f"{own_api.url}/bridges", {"name": "logged"})
    assert status == 201, body
    assert call("GET", f"{own_api.url}/bridges/{body['id']}")[0] == 200
    assert call("GET", f"{own_api.url}/nothing")[0] == 404
    text = own_api.log.read_text(errors="replace")
    assert "apistore:***@" in text
    assert own_api.password not in text


def test_every_request_is_logged_on_one_line(own_api: OwnApi) -> None:
    assert request(own_api.url, "GET", "/bridges%0A").status == 404
    assert request(own_api.url, "GET", "/bridges?x=1").status == 200
    line_404 = '"GET /midonet-api/bridges%0A" 404 '
    line_200 = '"GET /midonet-api/bridges?x=1" 200 '
    assert wait_until(lambda: line_200 in own_api.log.read_text()), own_api.log.read_text()
    assert line_404 in own_api.log.read_text()


def test_idle_connections_do_not_lock_out_new_clients(own_api: OwnApi) -> None:
    parts = urlsplit(own_api.url)
    before = own_api.threads()
    idle: list[socket.socket] = []
    try:
        for i in range(300):
            sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
            if i % 2:  # half a request, never finished
                sock.sendall(f"GET {parts.path}/ HTTP/1.1\r\nHost: x\r\nAcc".encode())
            idle.append(sock)
        status, body = call("GET", f"{own_api.url}/")
        assert status == 200
        assert body["uri"] == f"{own_api.url}/"
        assert own_api.threads() <= before + 2
        # The server closes every one of them after the client timeout.
        for sock in idle:
            assert sock.recv(4096) == b""
    finally:
        for sock in idle:
            sock.close()
    assert call("GET", f"{own_api.url}/")[0] == 200
    assert own_api.threads() <= before + 2


def test_api_stops_cleanly_on_sigterm(redis_server: str, tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    proc, url = start_api(redis_server, log)
    try:
        # An open keep-alive connection does not hold the stop up.
        idle = socket.create_connection((urlsplit(url).hostname, urlsplit(url).port))
        proc.terminate()
        assert proc.wait(timeout=20) == 0, log.read_text()
        idle.close()
        assert "Traceback" not in log.read_text()
    finally:
        _stop(proc)


def test_public_url_is_the_base_of_every_uri(redis_url: str, tmp_path: Path) -> None:
    proc, url = start_api(redis_url, tmp_path / "api.log",
                          "--wsapi-public-url", "https://api.example.net/net/")
    try:
        status, root = call("GET", f"{url}/")
        assert status == 200
        assert root["uri"] == "https://api.example.net/net/midonet-api/"
        assert root["bridges"] == "https://api.example.net/net/midonet-api/bridges"
        created = request(url, "POST", "/bridges", b'{"name": "b"}',
                          {"Content-Type": "application/json", "Host": "evil.example"})
        assert created.status == 201
        assert created.headers["Location"].startswith(
            "https://api.example.net/net/midonet-api/bridges/")
    finally:
        _stop(proc)


@pytest.mark.parametrize("bad", ["api.example.net", "ftp://api.example.net",
                                 "http://api.example.net/?x=1"])
def test_a_bad_public_url_is_refused_at_start(redis_url: str, tmp_path: Path,
                                              bad: str) -> None:
    result = subprocess.run(
        [_console_script("ryu-midonet-manager"), "--redis-url", redis_url,
         "--wsapi-port", str(find_free_port()), "--auth-strategy", "noauth",
         "--wsapi-public-url", bad, "ryu_midonet.rest"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"wsapi_public_url {bad!r}" in result.stdout + result.stderr
