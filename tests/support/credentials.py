"""Who the tests log in as, and a urllib handler that logs in for them.

Every API the tests talk to runs with authentication on. :func:`remember` records the
credentials of an API (its ``/midonet-api`` URL); :func:`install` makes every
``urllib.request.urlopen`` of the test process send that API's token as ``X-Auth-Token``, log
in with HTTP Basic when it has none, and log in again once when the API answers 401 (its token
expired, or the store lost it). A request that sets ``X-Auth-Token`` itself is left alone, and
so is any request to an API nobody remembered.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADMIN = "admin"


@dataclass
class Login:
    user: str
    password: str
    token: str | None = None


_LOGINS: dict[str, Login] = {}


def new_password() -> str:
    return secrets.token_urlsafe(18)


def remember(api_url: str, user: str, password: str, token: str | None = None) -> None:
    """Log in to ``api_url`` as ``user`` from now on."""
    _LOGINS[api_url.rstrip("/")] = Login(user, password, token)


def add_admin(redis_url: str, api_url: str, prefix: str = "mn") -> Login:
    """Create the user ``admin`` with a new password in the store at ``redis_url`` and log in
    to ``api_url`` (the API on that store) as that user from now on."""
    from ryu_midonet.auth import ADMIN as ROLE
    from ryu_midonet.auth import Auth

    password = new_password()
    Auth.from_url(redis_url, prefix).users.add(ADMIN, ROLE, password)
    remember(api_url, ADMIN, password)
    login = login_of(api_url)
    assert login is not None
    return login


def remember_sandbox(sb: Any) -> Login:
    """Log in to a sandbox's API (a :class:`~ryu_midonet.sandbox.Sandbox` that is up) as its
    admin user from now on."""
    creds = sb.credentials()
    assert creds is not None and sb.api_url, "this sandbox runs no REST API"
    remember(sb.api_url, creds.user, creds.password)
    login = login_of(sb.api_url)
    assert login is not None
    return login


def login_of(url: str) -> Login | None:
    """The credentials of the API that ``url`` (any URL under it) belongs to."""
    for base, login in _LOGINS.items():
        if url == base or url.startswith(base + "/"):
            return login
    return None


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def log_in(api_url: str, user: str, password: str) -> str:
    """``POST <api_url>/login`` with HTTP Basic credentials; the token."""
    req = urllib.request.Request(f"{api_url.rstrip('/')}/login", data=b"", method="POST",
                                 headers={"Authorization": basic(user, password)})
    with urllib.request.build_opener().open(req, timeout=15) as resp:
        return str(json.loads(resp.read())["key"])


def token_of(api_url: str) -> str:
    """A live token of the remembered user of ``api_url`` (logging in when it has none)."""
    login = login_of(api_url)
    assert login is not None, f"no credentials remembered for {api_url}"
    if login.token is None:
        base = next(b for b, v in _LOGINS.items() if v is login)
        login.token = log_in(base, login.user, login.password)
    return login.token


def write_midonetrc(home: Path, api_url: str, login: tuple[str, str] | None = None) -> None:
    """``home/.midonetrc`` with ``login`` (user, password), by default the remembered
    credentials of ``api_url``, as midonet-cli reads them."""
    if login is None:
        known = login_of(api_url)
        assert known is not None, f"no credentials remembered for {api_url}"
        login = (known.user, known.password)
    (home / ".midonetrc").write_text(
        f"[cli]\napi_url = {api_url}\nusername = {login[0]}\npassword = {login[1]}\n"
        "project_id = admin\n")


class TokenHandler(urllib.request.BaseHandler):
    """Sends the remembered token; on a 401 logs in once more and retries."""

    handler_order = 400

    def http_request(self, req: urllib.request.Request) -> urllib.request.Request:
        login = login_of(req.full_url)
        if login is not None and not req.has_header("X-auth-token") \
                and not req.full_url.rstrip("/").endswith("/login"):
            req.add_unredirected_header("X-auth-token", token_of(req.full_url))
            req.ryu_midonet_auto = True  # type: ignore[attr-defined]
        return req

    https_request = http_request

    def http_error_401(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                       headers: Any) -> Any:
        login = login_of(req.full_url)
        if login is None or not getattr(req, "ryu_midonet_auto", False) \
                or getattr(req, "ryu_midonet_retried", False):
            return None
        login.token = None
        req.ryu_midonet_retried = True  # type: ignore[attr-defined]
        req.add_unredirected_header("X-auth-token", token_of(req.full_url))
        return self.parent.open(req, timeout=req.timeout)  # type: ignore[attr-defined]


def install() -> None:
    """Make ``urllib.request.urlopen`` log in to remembered APIs."""
    urllib.request.install_opener(urllib.request.build_opener(TokenHandler()))


Sender = Callable[..., tuple[int, bytes]]


def readonly_sender(api_url: str, redis_url: str, user: str, prefix: str = "mn") -> Sender:
    """A new ``readonly`` user ``user`` of the API, logged in: ``send(method, url, body=None)``
    makes one request as that user and returns ``(HTTP status, body)``, errors included."""
    from ryu_midonet.auth import Auth

    password = new_password()
    Auth.from_url(redis_url, prefix).users.add(user, "readonly", password)
    token = log_in(api_url, user, password)
    plain = urllib.request.build_opener()

    def send(method: str, url: str, body: Any = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"X-Auth-Token": token,
                                              "Content-Type": "application/json"})
        try:
            with plain.open(req, timeout=15) as resp:
                return int(resp.status), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    return send
