"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest
from fakeclock import Clock


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand."""
    return Clock()
