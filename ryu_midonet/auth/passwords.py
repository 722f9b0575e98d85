"""Password hashes: scrypt (from :mod:`hashlib`) with a random salt, encoded with its parameters.

An encoded hash reads ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``, so the parameters can grow
later without invalidating stored hashes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
_MAXMEM = 64 * 1024 * 1024


def _derive(password: str, salt: bytes, n: int, r: int, p: int, size: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=size,
                          maxmem=_MAXMEM)


def hash_password(password: str) -> str:
    """A new encoded hash of ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, N, R, P, KEY_BYTES)
    b64 = base64.b64encode
    return f"{SCHEME}${N}${R}${P}${b64(salt).decode()}${b64(key).decode()}"


def verify(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded`` (compared in constant time)."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(key, validate=True)
        derived = _derive(password, base64.b64decode(salt, validate=True), int(n), int(r),
                          int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, expected)


@functools.cache
def dummy() -> str:
    """A hash checked when a user does not exist, so a wrong name costs as long as a wrong
    password."""
    return hash_password(secrets.token_hex(8))
