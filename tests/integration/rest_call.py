"""One REST call as a client makes it: status and parsed JSON body, errors included."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def call(method: str, url: str, body: Any = None,
         media: str = "application/json") -> tuple[int, Any]:
    """``(HTTP status, JSON body or None)``; error replies are returned, not raised."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", media)
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def ok(method: str, url: str, body: Any = None, status: int = 200) -> Any:
    """The JSON body of a call that must answer ``status``."""
    got, reply = call(method, url, body)
    assert got == status, (method, url, body, reply)
    return reply
