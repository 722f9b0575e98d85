"""Authentication and authorisation of the REST API, as clients and operators meet them.

A real API process on a real redis-server: no token answers 401, a wrong password answers 401,
the readonly role may read but not write (403), expired tokens stop working, passwords never
reach the log nor a reply, ``ryu-midonet-users`` manages users, and ``noauth`` is refused
anywhere but on loopback.
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ryu_midonet.auth import Auth
from tests.conftest import _console_script, _stop, find_free_port
from tests.support import credentials
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ERROR = "application/vnd.org.midonet.Error-v1+json"
PLAIN = urllib.request.build_opener()  # no automatic login


@contextmanager
def api_process(redis_url: str, tmp_path: Path, *flags: str) -> Iterator[tuple[str, Path]]:
    """``ryu-midonet-manager ... ryu_midonet.rest`` with ``flags``; its URL and its log."""
    port = find_free_port()
    log = tmp_path / f"api-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [_console_script("ryu-midonet-manager"), "--redis-url", redis_url,
             "--wsapi-port", str(port), *flags, "ryu_midonet.rest"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/midonet-api"
    try:
        def up() -> bool:
            assert proc.poll() is None, log.read_text()
            return send("GET", url + "/")[0] in (200, 401)

        assert wait_until(up, 30), log.read_text()
        yield url, log
    finally:
        _stop(proc)


def send(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
         ) -> tuple[int, Any, Any]:
    """``(status, JSON body, headers)`` without any automatic login."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with PLAIN.open(req, timeout=15) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw.strip() else None, resp.headers
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw.strip() else None, exc.headers
    except urllib.error.URLError:
        return 0, None, {}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": credentials.basic(user, password)}


def login(url: str, user: str, password: str) -> str:
    status, body, _ = send("POST", url + "/login", headers=basic(user, password))
    assert status == 200, body
    return str(body["key"])


def token(key: str) -> dict[str, str]:
    return {"X-Auth-Token": key}


def admin_token(api_url: str) -> dict[str, str]:
    return token(credentials.token_of(api_url))


def test_no_token_is_refused_on_reads_and_writes(api_url: str) -> None:
    for method, path, body in [("GET", "/", None), ("GET", "/bridges", None),
                               ("POST", "/bridges", {"name": "sneaky"}),
                               ("PUT", "/system_state", {"availability": "READONLY"}),
                               ("GET", "/no/such/thing", None)]:
        status, error, headers = send(method, api_url + path, body)
        assert status == 401, (method, path, error)
        assert headers["Content-Type"] == ERROR
        assert error["code"] == 401 and "log in" in error["message"]
        assert "X-Auth-Token" in headers["WWW-Authenticate"]
    status, error, _ = send("GET", api_url + "/bridges", headers=token("f" * 32))
    assert status == 401
    assert send("GET", api_url + "/bridges", headers=admin_token(api_url))[1] == []
    assert send("GET", api_url + "/system_state",
                headers=admin_token(api_url))[1]["availability"] == "READWRITE"


def test_login_gives_a_token_header_and_cookie(api_url: str) -> None:
    user = credentials.login_of(api_url)
    assert user is not None
    status, body, headers = send("POST", api_url + "/login",
                                 headers=basic(user.user, user.password))
    assert status == 200 and set(body) == {"key", "expires"}
    assert headers["Set-Cookie"].startswith(f"sessionId={body['key']};")
    assert body["expires"].endswith(" GMT")
    assert send("POST", api_url + "/bridges", {"name": "by-token"},
                token(body["key"]))[0] == 201
    status, bridges, _ = send("GET", api_url + "/bridges",
                              headers={"Cookie": f"sessionId={body['key']}"})
    assert status == 200 and [b["name"] for b in bridges] == ["by-token"]


@pytest.mark.parametrize("headers", [
    basic("admin", "not-the-password"), basic("nobody", "whatever"), {},
    {"Authorization": "Basic !!!"}, {"Authorization": "Bearer abc"},
    {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
], ids=["wrong-password", "unknown-user", "none", "malformed", "other-scheme", "no-colon"])
def test_wrong_or_missing_credentials_are_refused(api_url: str, headers: dict[str, str]
                                                  ) -> None:
    status, error, reply_headers = send("POST", api_url + "/login", headers=headers)
    assert status == 401 and error["code"] == 401
    assert reply_headers["WWW-Authenticate"].startswith("Basic ")
    assert "Set-Cookie" not in reply_headers


def test_readonly_role_reads_but_may_not_write(api_url: str, redis_url: str) -> None:
    Auth.from_url(redis_url).users.add("viewer", "readonly", "look-only")
    admin = admin_token(api_url)
    status, bridge, _ = send("POST", api_url + "/bridges", {"name": "b"}, admin)
    assert status == 201
    viewer = token(login(api_url, "viewer", "look-only"))
    assert send("GET", api_url + "/bridges", headers=viewer)[0] == 200
    assert send("GET", f"{api_url}/bridges/{bridge['id']}", headers=viewer)[0] == 200
    assert send("HEAD", api_url + "/bridges", headers=viewer)[0] == 200
    for method, path, body in [("POST", "/bridges", {"name": "c"}),
                               ("PUT", f"/bridges/{bridge['id']}", {"name": "renamed"}),
                               ("DELETE", f"/bridges/{bridge['id']}", None),
                               ("PUT", "/system_state", {"availability": "READONLY"}),
                               ("POST", "/store_status/accept", {})]:
        status, error, _ = send(method, api_url + path, body, viewer)
        assert status == 403, (method, path, error)
        assert "viewer" in error["message"] and "admin" in error["message"]
    status, bridges, _ = send("GET", api_url + "/bridges", headers=viewer)
    assert [b["name"] for b in bridges] == ["b"]
    assert send("GET", api_url + "/system_state",
                headers=viewer)[1]["availability"] == "READWRITE"


def test_changing_the_system_state_needs_admin(api_url: str) -> None:
    admin = admin_token(api_url)
    for state in ("READONLY", "READWRITE"):
        status, _, _ = send("PUT", api_url + "/system_state", {"availability": state}, admin)
        assert status in (200, 204)
        assert send("GET", api_url + "/system_state",
                    headers=admin)[1]["availability"] == state


def test_a_deleted_user_s_token_stops_working(api_url: str, redis_url: str) -> None:
    auth = Auth.from_url(redis_url)
    auth.users.add("temp", "admin", "temporary")
    key = token(login(api_url, "temp", "temporary"))
    assert send("GET", api_url + "/bridges", headers=key)[0] == 200
    auth.users.delete("temp")
    assert send("GET", api_url + "/bridges", headers=key)[0] == 401


def test_expired_token_is_refused(redis_url: str, tmp_path: Path) -> None:
    Auth.from_url(redis_url).users.add("brief", "admin", "short-lived")
    with api_process(redis_url, tmp_path, "--auth-token-ttl", "2") as (url, _):
        key = token(login(url, "brief", "short-lived"))
        assert send("GET", url + "/bridges", headers=key)[0] == 200
        assert wait_until(lambda: send("GET", url + "/bridges", headers=key)[0] == 401, 15)
        status, error, _ = send("POST", url + "/bridges", {"name": "late"}, key)
        assert status == 401 and "expired" in error["message"]
        assert send("GET", url + "/bridges",
                    headers=token(login(url, "brief", "short-lived")))[0] == 200


def test_passwords_and_tokens_never_in_the_log_nor_in_replies(redis_url: str,
                                                              tmp_path: Path) -> None:
    secret = "Tr0ub4dor-&-3-unique-secret"
    Auth.from_url(redis_url).users.add("carol", "admin", secret)
    with api_process(redis_url, tmp_path, "--verbose") as (url, log):
        replies = [send("POST", url + "/login", headers=basic("carol", secret + "x")),
                   send("POST", url + "/login", headers=basic(secret, secret))]
        key = login(url, "carol", secret)
        replies += [send("GET", url + "/bridges", headers=token(key)),
                    send("POST", url + "/bridges", {"name": "n"}, token(key)),
                    send("GET", url + "/", headers=token(key)),
                    send("GET", url + "/bridges", headers=basic("carol", secret))]
    text = log.read_text()
    assert "carol" in text  # the log does name the user who logged in
    assert secret not in text and key not in text
    for status, body, headers in replies:
        assert secret not in json.dumps(body) and secret not in str(headers), status
        assert key not in json.dumps(body) and key not in str(headers), status


def test_store_unavailable_while_checking_a_token_answers_503(tmp_path: Path) -> None:
    nothing = f"redis://127.0.0.1:{find_free_port()}/0"
    with api_process(nothing, tmp_path) as (url, _):
        status, error, headers = send("GET", url + "/bridges", headers=token("a" * 32))
        assert status == 503 and "unavailable" in error["message"]
        assert headers["Retry-After"] == "1"
        assert send("POST", url + "/login", headers=basic("a", "b"))[0] == 503


def test_noauth_is_refused_off_loopback(redis_url: str, tmp_path: Path) -> None:
    log = tmp_path / "refused.log"
    with open(log, "wb") as out:
        done = subprocess.run(
            [_console_script("ryu-midonet-manager"), "--redis-url", redis_url,
             "--wsapi-host", "0.0.0.0", "--wsapi-port", str(find_free_port()),
             "--auth-strategy", "noauth", "ryu_midonet.rest"],
            stdout=out, stderr=subprocess.STDOUT, timeout=60)
    text = log.read_text()
    assert done.returncode != 0, text
    assert "auth_strategy = noauth is refused with wsapi_host = 0.0.0.0" in text
    assert "Traceback" not in text


def test_noauth_on_loopback_is_open_and_says_so(redis_url: str, tmp_path: Path) -> None:
    with api_process(redis_url, tmp_path, "--auth-strategy", "noauth") as (url, log):
        assert send("POST", url + "/bridges", {"name": "open"})[0] == 201
        assert send("GET", url + "/bridges")[0] == 200
        assert send("POST", url + "/login", headers=basic("any", "thing"))[0] == 200
        assert "no authentication; anyone on this host may read and change everything" \
            in log.read_text()


# -- ryu-midonet-users ---------------------------------------------------------------------
def users(redis_url: str, *args: str, stdin: str | None = None
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_console_script("ryu-midonet-users"), "--redis-url", redis_url,
                           *args], input=stdin, capture_output=True, text=True, timeout=60,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def test_users_command_manages_users(api_url: str, redis_url: str) -> None:
    done = users(redis_url, "add", "dora", "--role", "readonly", "--password-stdin",
                 stdin="first-pass\n")
    assert done.returncode == 0 and done.stdout == "added user dora (role readonly)\n"
    assert "first-pass" not in done.stdout + done.stderr
    listed = users(redis_url, "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["admin\tadmin", "dora\treadonly"]
    key = token(login(api_url, "dora", "first-pass"))
    assert send("GET", api_url + "/bridges", headers=key)[0] == 200
    assert send("POST", api_url + "/bridges", {"name": "x"}, key)[0] == 403

    done = users(redis_url, "passwd", "dora", "--password-stdin", stdin="second-pass\n")
    assert done.returncode == 0 and "dora" in done.stdout
    assert send("POST", api_url + "/login", headers=basic("dora", "first-pass"))[0] == 401
    login(api_url, "dora", "second-pass")

    done = users(redis_url, "delete", "dora")
    assert done.returncode == 0 and done.stdout == "deleted user dora\n"
    assert users(redis_url, "list").stdout.splitlines() == ["admin\tadmin"]
    assert send("POST", api_url + "/login", headers=basic("dora", "second-pass"))[0] == 401
    assert send("GET", api_url + "/bridges", headers=key)[0] == 401


@pytest.mark.parametrize(("args", "stdin", "code", "message"), [
    (["add", "eve", "--role", "root", "--password-stdin"], "pw\n", 2, "invalid choice"),
    (["add", "eve", "--password-stdin"], "pw\n", 2, "--role"),
    (["add", "bad name", "--role", "admin", "--password-stdin"], "pw\n", 1, "bad user name"),
    (["add", "admin", "--role", "admin", "--password-stdin"], "pw\n", 1, "already exists"),
    (["add", "eve", "--role", "admin", "--password-stdin"], "\n", 1, "no password"),
    (["add", "eve", "--role", "admin"], None, 1, "use --password-stdin"),
    (["add", "eve", "--role", "admin", "--password", "pw"], None, 2, "unrecognized"),
    (["passwd", "nobody", "--password-stdin"], "pw\n", 1, "no user 'nobody'"),
    (["delete", "nobody"], None, 1, "no user 'nobody'"),
    ([], None, 2, "COMMAND"),
], ids=["bad-role", "no-role", "bad-name", "exists", "empty-password", "no-terminal",
        "password-in-argv", "passwd-unknown", "delete-unknown", "no-command"])
def test_users_command_bad_input(api_url: str, redis_url: str, args: list[str],
                                 stdin: str | None, code: int, message: str) -> None:
    done = users(redis_url, *args, stdin=stdin)
    assert done.returncode == code, done
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert users(redis_url, "list").stdout.splitlines() == ["admin\tadmin"]


def test_users_command_store_unreachable() -> None:
    done = users(f"redis://127.0.0.1:{find_free_port()}/0", "list")
    assert done.returncode == 1 and "cannot reach the topology store" in done.stderr
    assert "Traceback" not in done.stderr


def test_logging_in_twice_gives_distinct_tokens(api_url: str) -> None:
    user = credentials.login_of(api_url)
    assert user is not None
    first, second = login(api_url, user.user, user.password), login(api_url, user.user,
                                                                    user.password)
    assert first != second and len(first) == 32  # both stay valid
    assert send("GET", api_url + "/", headers=token(first))[0] == 200
    assert send("GET", api_url + "/", headers=token(second))[0] == 200


def test_every_api_process_on_the_store_accepts_a_token(api_url: str, redis_url: str,
                                                        tmp_path: Path) -> None:
    key = admin_token(api_url)
    with api_process(redis_url, tmp_path) as (other, _):
        assert send("POST", other + "/bridges", {"name": "via-other"}, key)[0] == 201
    status, bridges, _ = send("GET", api_url + "/bridges", headers=key)
    assert status == 200 and [b["name"] for b in bridges] == ["via-other"]


def test_midonet_cli_logs_in_again_when_its_token_expired(redis_url: str,
                                                          tmp_path: Path) -> None:
    from ryu_midonet.cli.http import ApiClient

    Auth.from_url(redis_url).users.add("cli-user", "admin", "cli-pass")
    with api_process(redis_url, tmp_path, "--auth-token-ttl", "2") as (url, _):
        client = ApiClient(url)
        first = client.login("cli-user", "cli-pass")
        assert first and client.get("bridges") == []
        assert wait_until(lambda: send("GET", url + "/bridges", headers=token(first))[0] == 401,
                          15)
        assert client.post("bridges", {"name": "after-expiry"})["name"] == "after-expiry"
        assert client.token and client.token != first


def test_users_command_reads_the_store_from_the_configuration(redis_url: str,
                                                              tmp_path: Path) -> None:
    conf = tmp_path / "ryu-midonet.conf"
    conf.write_text(f"[DEFAULT]\nredis_url = {redis_url}\nnsdb_prefix = other\n")
    done = subprocess.run([_console_script("ryu-midonet-users"), "--config-file", str(conf),
                           "add", "frank", "--role", "admin", "--password-stdin"],
                          input="frank-pass\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Auth.from_url(redis_url, "other").users.authenticate("frank", "frank-pass")
    assert Auth.from_url(redis_url).users.get("frank") is None  # not under the default prefix
    missing = subprocess.run([_console_script("ryu-midonet-users"), "--config-file",
                              str(tmp_path / "nope.conf"), "list"],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "nope.conf" in missing.stderr
    assert "Traceback" not in missing.stderr
