"""Waiting for a condition that other processes make true."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], object], timeout: float = 15.0, step: float = 0.1) -> bool:
    """Whether ``check()`` turned true within ``timeout`` seconds, polled every ``step``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return bool(check())
