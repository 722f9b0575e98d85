"""``/login``: the mock authentication service (any credentials get a fresh token)."""

from __future__ import annotations

import datetime
import secrets
from typing import TYPE_CHECKING

from ryu_midonet.rest.resource import Resource
from ryu_midonet.rest.wsgi import ANY_BODY, Reply, Request

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api

TOKEN = Resource("token", "login", "Token", 1)


def login(req: Request) -> Reply:
    token = secrets.token_hex(16)
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    stamp = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return Reply(200, {"key": token, "expires": stamp},
                 headers={"Set-Cookie": f"sessionId={token}; Expires={stamp}"})


def register(api: Api) -> None:
    """Add the login route to ``api``."""
    api.add("POST", "/login", login, TOKEN.media,
            "Log in (HTTP Basic); returns a token, also set as the sessionId cookie",
            accepts=(ANY_BODY,))
