"""``/login``: HTTP Basic credentials in, a token out (also set as the ``sessionId`` cookie).

The reply is ``{"key": <token>, "expires": <HTTP date>}``, as MidoNet answers; python-midonetclient
reads the token from the cookie. Wrong or missing credentials answer 401. Neither passwords nor
tokens are logged. With ``auth_strategy = noauth`` any credentials get an admin token.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ryu_midonet import config
from ryu_midonet.auth import Auth
from ryu_midonet.rest.resource import Resource
from ryu_midonet.rest.wsgi import ANY_BODY, ERROR_MEDIA_TYPE, Reply, Request

if TYPE_CHECKING:
    from ryu_midonet.rest.protocols import Api

LOG = logging.getLogger(__name__)
TOKEN = Resource("token", "login", "Token", 1)
CHALLENGE = 'Basic realm="midonet-api"'


class Unauthorized(Exception):
    """Credentials missing, malformed or wrong (HTTP 401)."""


def basic_credentials(header: str | None) -> tuple[str, str]:
    """``(user, password)`` of an ``Authorization: Basic ...`` header."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise Unauthorized("log in with HTTP Basic credentials (Authorization: Basic ...)")
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise Unauthorized("malformed HTTP Basic credentials") from None
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise Unauthorized("malformed HTTP Basic credentials: expected user:password")
    return user, password


def refused(message: str) -> Reply:
    """A 401 Error-v1 reply asking for HTTP Basic credentials."""
    return Reply(401, {"message": message, "code": 401}, media=ERROR_MEDIA_TYPE,
                 headers={"WWW-Authenticate": CHALLENGE})


def login_handler(api: Api) -> Callable[[Request], Reply]:
    """The handler of ``POST /login`` on ``api``'s store."""

    def login(req: Request) -> Reply:
        auth = Auth(api.topo.store.redis, api.topo.store.prefix)
        ttl = int(config.CONF.auth_token_ttl)
        try:
            user, password = basic_credentials(req.raw.headers.get("Authorization"))
        except Unauthorized as exc:
            if config.CONF.auth_strategy != "noauth":
                return refused(str(exc))
            user, password = "anonymous", ""
        if config.CONF.auth_strategy == "noauth":
            token = auth.tokens.issue(user, ttl)
        else:
            found = auth.login(user, password, ttl)
            if found is None:
                # not the name: users type passwords into it by mistake
                LOG.warning("login refused from %s: wrong user name or password",
                            req.raw.remote_addr)
                return refused("wrong user name or password")
            token = found[1]
            LOG.info("user %r logged in", user)
        return Reply(200, {"key": token.key, "expires": token.http_date},
                     headers={"Set-Cookie": f"sessionId={token.key}; Expires={token.http_date}"
                                            "; Path=/midonet-api; HttpOnly"})
    return login


def register(api: Api) -> None:
    """Add the login route to ``api``."""
    api.add("POST", "/login", login_handler(api), TOKEN.media,
            "Log in with HTTP Basic credentials; returns a token (send it as X-Auth-Token), "
            "also set as the sessionId cookie", accepts=(ANY_BODY,))
