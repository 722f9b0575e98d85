"""Redis URLs: one server, or the master that Redis Sentinel announces."""

from __future__ import annotations

import pytest
from redis.sentinel import SentinelConnectionPool

from ryu_midonet.nsdb.connect import UrlError, client_from_url, parse_sentinel_url


def test_sentinel_url_names_sentinels_service_and_db() -> None:
    assert parse_sentinel_url("redis+sentinel://10.0.0.1:26379,10.0.0.2:26380/mn/3") == (
        [("10.0.0.1", 26379), ("10.0.0.2", 26380)], "mn", 3, None, None)
    assert parse_sentinel_url("redis+sentinel://:s%40cret@h:1/svc") == (
        [("h", 1)], "svc", 0, None, "s@cret")


@pytest.mark.parametrize("url, message", [
    ("redis+sentinel://h:1", "must name the monitored service"),
    ("redis+sentinel://h:1/a/b/c", "must name the monitored service"),
    ("redis+sentinel://h/svc", "'h' in"),
    ("redis+sentinel://h:99999/svc", "is not host:port"),
    ("redis+sentinel://h:1/svc/x", "database 'x'"),
])
def test_bad_sentinel_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(UrlError, match=message):
        parse_sentinel_url(url)


def test_clients_time_out_instead_of_hanging() -> None:
    plain = client_from_url("redis://127.0.0.1:1/0")
    kwargs = plain.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] and kwargs["socket_connect_timeout"]
    followed = client_from_url("redis+sentinel://127.0.0.1:1/mn")
    assert isinstance(followed.connection_pool, SentinelConnectionPool)
    with pytest.raises(UrlError, match="bad Redis URL"):
        client_from_url("nosuch://x")
