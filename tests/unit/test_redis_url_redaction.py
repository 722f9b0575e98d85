"""Redis URLs in log lines and messages: the password never shows."""

from __future__ import annotations

import pytest

from ryu_midonet.nsdb.connect import UrlError, client_from_url, redact


@pytest.mark.parametrize("url, shown", [
    ("redis://default:s3cr%40t@db.example:6379/0", "redis://default:***@db.example:6379/0"),
    ("redis://:s3cret@127.0.0.1/1", "redis://:***@127.0.0.1/1"),
    ("rediss://user:pa:ss@h:6380/0", "rediss://user:***@h:6380/0"),
    ("redis://s3cret@h/0", "redis://***@h/0"),
    ("redis+sentinel://u:s3cret@a:26379,b:26379/mn/2", "redis+sentinel://u:***@a:26379,b:26379/mn/2"),
    ("unix:///run/redis.sock?db=2&password=s3cret", "unix:///run/redis.sock?db=2&password=***"),
    ("redis://h:6379/0?Password=s3cret", "redis://h:6379/0?password=***"),
])
def test_redact_hides_the_password(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert "s3cr" not in redact(url)


@pytest.mark.parametrize("url", [
    "redis://127.0.0.1:6379/0",
    "unix:///run/redis.sock?db=0",
    "redis+sentinel://a:1,b:2/mn",
    "redis://[::1]:6379/0",
])
def test_redact_leaves_urls_without_a_password_alone(url: str) -> None:
    assert redact(url) == url


def test_bad_url_messages_do_not_carry_the_password() -> None:
    with pytest.raises(UrlError) as err:
        client_from_url("redis+sentinel://u:s3cret@h:1")
    assert "s3cret" not in str(err.value)
    assert "u:***@h:1" in str(err.value)
