"""Password hashes and role rules of the REST API's users."""

from __future__ import annotations

from ryu_midonet.auth import may, passwords
from ryu_midonet.rest.auth import is_loopback


def test_hash_verifies_only_its_password_and_is_salted() -> None:
    first, second = passwords.hash_password("s3cret"), passwords.hash_password("s3cret")
    assert first != second  # a random salt each time
    assert first.startswith("scrypt$16384$8$1$") and "s3cret" not in first
    assert passwords.verify("s3cret", first) and passwords.verify("s3cret", second)
    assert not passwords.verify("s3cret ", first) and not passwords.verify("", first)


def test_malformed_hashes_never_verify() -> None:
    for encoded in ("", "scrypt$1$2", "md5$16384$8$1$AAAA$AAAA", "scrypt$x$8$1$AAAA$AAAA",
                    "scrypt$16384$8$1$!!$AAAA"):
        assert not passwords.verify("anything", encoded)


def test_roles() -> None:
    assert all(may("admin", m) for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"))
    assert may("readonly", "GET") and may("readonly", "head")
    assert not any(may("readonly", m) for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"))
    assert not may("root", "GET")


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.net", ""))
