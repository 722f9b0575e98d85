"""Redis clients from URLs: a single server, or whichever master Redis Sentinel announces.

- ``redis://[[user]:password@]host:port/db``, ``rediss://...``, ``unix:///path?db=N``: one
  server, as redis-py understands it.
- ``redis+sentinel://[[user]:password@]host:port[,host:port...]/SERVICE[/db]``: the master of
  ``SERVICE`` as the listed sentinels announce it. The client asks the sentinels again
  whenever its connection to the master fails, so it follows a failover by itself.

Every client gets short connect and read timeouts and a single immediate retry, so a store
that went away is noticed at once instead of stalling a thread for seconds.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel"
CONNECT_TIMEOUT = 2.0
# Longer than the longest blocking read the store makes (XREAD BLOCK 1000 ms).
READ_TIMEOUT = 5.0


class UrlError(ValueError):
    """A Redis URL that cannot be used."""


def redact(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` query parameter)
    replaced by ``***``, fit for a log line or a message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable Redis URL>"
    out = url
    if "@" in parts.netloc:
        creds, hosts = parts.netloc.rsplit("@", 1)
        user, sep, _secret = creds.partition(":")
        out = out.replace(parts.netloc, f"{user}:***@{hosts}" if sep else f"***@{hosts}", 1)
    if parts.query:
        items = ["password=***" if item.split("=", 1)[0].lower() == "password" else item
                 for item in parts.query.split("&")]
        out = out.replace("?" + parts.query, "?" + "&".join(items), 1)
    return out


def client_from_url(url: str, decode_responses: bool = True) -> redis.Redis:
    """A client for the Redis server (or the Sentinel-announced master) that ``url`` names."""
    options: dict[str, Any] = {
        "decode_responses": decode_responses,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": READ_TIMEOUT,
        "health_check_interval": 10,
        # One immediate retry on a fresh connection rides over a restarted server; more,
        # with redis-py's default backoff, would stall a packet for seconds while it is down.
        "retry": Retry(NoBackoff(), 1),
    }
    if urlsplit(url).scheme != SENTINEL_SCHEME:
        try:
            return redis.Redis.from_url(url, **options)
        except ValueError as exc:
            raise UrlError(f"bad Redis URL {redact(url)!r}: {exc}") from None
    sentinels, service, db, username, password = parse_sentinel_url(url)
    sentinel = Sentinel(sentinels, socket_connect_timeout=CONNECT_TIMEOUT,
                        socket_timeout=READ_TIMEOUT)
    return sentinel.master_for(service, db=db, username=username, password=password,
                               **options)


def parse_sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, int, str | None,
                                          str | None]:
    """``(sentinels, service, db, username, password)`` of a ``redis+sentinel://`` URL."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        raise UrlError(f"not a {SENTINEL_SCHEME}:// URL: {redact(url)!r}")
    netloc = parts.netloc
    username = password = None
    if "@" in netloc:
        creds, netloc = netloc.rsplit("@", 1)
        user, _, secret = creds.partition(":")
        username = unquote(user) or None
        password = unquote(secret) or None
    sentinels = []
    for item in netloc.split(","):
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UrlError(f"sentinel address {item!r} in {redact(url)!r} is not host:port")
        sentinels.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2:
        raise UrlError(f"{redact(url)!r} must name the monitored service: "
                       f"{SENTINEL_SCHEME}://host:port[,host:port...]/SERVICE[/db]")
    db = 0
    if len(path) == 2:
        if not path[1].isdigit():
            raise UrlError(f"database {path[1]!r} in {redact(url)!r} is not a number")
        db = int(path[1])
    return sentinels, unquote(path[0]), db, username, password
