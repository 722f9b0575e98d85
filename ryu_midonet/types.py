"""Types every layer shares."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
"""A stored topology object: camelCase fields, with its ``id``."""
