"""Users of the REST API: a role and a password hash each, in one Redis hash per user."""

from __future__ import annotations

import re
from dataclasses import dataclass

import redis

from ryu_midonet.auth import passwords

ADMIN = "admin"
READONLY = "readonly"
ROLES = (ADMIN, READONLY)
READ_METHODS = frozenset({"GET", "HEAD"})
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
MAX_PASSWORD = 1024


class UserError(ValueError):
    """A request about users that cannot be done (bad name, role or password, no such user)."""


def may(role: str, method: str) -> bool:
    """Whether ``role`` may send a request with ``method`` (readonly: only reads)."""
    return role == ADMIN or (role == READONLY and method.upper() in READ_METHODS)


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise UserError(f"bad user name {name!r}: 1 to 64 letters, digits or '_.@-', "
                        "starting with a letter or digit")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"bad role {role!r}: one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if not password:
        raise UserError("the password is empty")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password is longer than {MAX_PASSWORD} characters")
    return password


@dataclass(frozen=True)
class User:
    name: str
    role: str


class Users:
    """``{prefix}:auth:user:<name>`` -> ``{role, hash}``."""

    def __init__(self, client: redis.Redis, tag: str) -> None:
        self.redis = client
        self.tag = tag

    def key(self, name: str) -> str:
        return f"{self.tag}:auth:user:{name}"

    def add(self, name: str, role: str, password: str) -> User:
        """Create a user; :class:`UserError` if it exists or its fields are bad."""
        check_name(name)
        check_role(role)
        encoded = passwords.hash_password(check_password(password))
        key = self.key(name)
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    if pipe.exists(key):
                        raise UserError(f"user {name!r} already exists")
                    pipe.multi()
                    pipe.hset(key, mapping={"role": role, "hash": encoded})
                    pipe.execute()
                    return User(name, role)
                except redis.WatchError:
                    continue

    def set_password(self, name: str, password: str) -> None:
        encoded = passwords.hash_password(check_password(password))
        self._update(name, {"hash": encoded})

    def set_role(self, name: str, role: str) -> None:
        self._update(name, {"role": check_role(role)})

    def _update(self, name: str, fields: dict[str, str]) -> None:
        key = self.key(check_name(name))
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    if not pipe.exists(key):
                        raise UserError(f"no user {name!r}")
                    pipe.multi()
                    pipe.hset(key, mapping=fields)
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def delete(self, name: str) -> None:
        if not self.redis.delete(self.key(check_name(name))):
            raise UserError(f"no user {name!r}")

    def get(self, name: str) -> User | None:
        if not NAME.fullmatch(name):
            return None
        role = self.redis.hget(self.key(name), "role")
        return User(name, str(role)) if role else None

    def list(self) -> list[User]:
        prefix = self.key("")
        names = sorted(str(k)[len(prefix):] for k in self.redis.scan_iter(match=prefix + "*"))
        found = (self.get(n) for n in names)
        return [u for u in found if u is not None]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when ``password`` is right, else ``None`` (as slow either way)."""
        record = self.redis.hgetall(self.key(name)) if NAME.fullmatch(name) else {}
        encoded = str(record.get("hash") or passwords.dummy())
        ok = passwords.verify(password, encoded)
        role = record.get("role")
        return User(name, str(role)) if ok and record and role in ROLES else None
