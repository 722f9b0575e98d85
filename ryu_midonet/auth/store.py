"""The users and tokens of one topology store (one Redis database and key prefix)."""

from __future__ import annotations

import redis

from ryu_midonet.auth.tokens import DEFAULT_TTL, Identity, Token, Tokens
from ryu_midonet.auth.users import ROLES, User, Users
from ryu_midonet.nsdb.connect import client_from_url


class Auth:
    """Users and tokens under ``{prefix}:auth:`` of the Redis server ``client`` talks to."""

    def __init__(self, client: redis.Redis, prefix: str = "mn") -> None:
        tag = f"{{{prefix}}}"
        self.users = Users(client, tag)
        self.tokens = Tokens(client, tag)

    @classmethod
    def from_url(cls, url: str, prefix: str = "mn") -> Auth:
        return cls(client_from_url(url), prefix)

    def login(self, name: str, password: str, ttl: int = DEFAULT_TTL) -> tuple[User, Token] | None:
        """A new token when the credentials are right, else ``None``."""
        user = self.users.authenticate(name, password)
        if user is None:
            return None
        return user, self.tokens.issue(user.name, ttl)

    def identify(self, token: str) -> Identity | None:
        """Who holds ``token``, with the user's current role; ``None`` when it is not valid
        (unknown, expired, or its user was deleted)."""
        name = self.tokens.user(token)
        if name is None:
            return None
        user = self.users.get(name)
        if user is None or user.role not in ROLES:
            return None
        return Identity(user.name, user.role)
