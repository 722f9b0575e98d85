"""API tokens: random strings handed out by ``POST /login``, stored only as their SHA-256.

The Redis key expires with the token, so an expired token is simply not found; any API process
on the same store accepts a token another one issued.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

import redis

DEFAULT_TTL = 3600


@dataclass(frozen=True)
class Token:
    key: str
    expires: datetime.datetime

    @property
    def http_date(self) -> str:
        return self.expires.strftime("%a, %d %b %Y %H:%M:%S GMT")


@dataclass(frozen=True)
class Identity:
    """Who sent a request: the user name and its current role."""

    user: str
    role: str


class Tokens:
    """``{prefix}:auth:token:<sha256 hex>`` -> user name, with a TTL."""

    def __init__(self, client: redis.Redis, tag: str) -> None:
        self.redis = client
        self.tag = tag

    def key(self, token: str) -> str:
        return f"{self.tag}:auth:token:{hashlib.sha256(token.encode()).hexdigest()}"

    def issue(self, user: str, ttl: int = DEFAULT_TTL) -> Token:
        """A new token for ``user``, valid for ``ttl`` seconds."""
        key = secrets.token_hex(16)
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=ttl)
        self.redis.set(self.key(key), user, ex=ttl)
        return Token(key, expires.replace(microsecond=0))

    def user(self, token: str) -> str | None:
        """The user a live ``token`` belongs to, else ``None``."""
        if not token or len(token) > 256:
            return None
        found = self.redis.get(self.key(token))
        return str(found) if found else None

    def revoke(self, token: str) -> None:
        self.redis.delete(self.key(token))
