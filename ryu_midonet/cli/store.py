"""``store status`` and ``store accept``: hosts that keep a topology the store lost."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from ryu_midonet.cli.errors import CliError
from ryu_midonet.cli.session import Session

USAGE = "usage: store status | store accept"


def run_store(words: list[str], session: Session, write: Callable[[str], None]) -> None:
    """Run ``store status`` or ``store accept`` (which prints the status afterwards)."""
    if len(words) != 2 or words[1] not in ("status", "accept"):
        raise CliError(USAGE)
    if words[1] == "accept":
        status = session.api.post("store_status/accept", {})
    else:
        status = session.api.get("store_status")
    for line in status_lines(status):
        write(line)


def status_lines(status: dict[str, Any]) -> list[str]:
    """The store's epoch and version, then one line per host that keeps its cached topology."""
    lines = [f"store epoch {status.get('epoch') or '-'} version {status.get('version', 0)}"]
    for r in status.get("divergences") or []:
        since = datetime.datetime.fromtimestamp(r["since"], datetime.UTC)
        grace = f" grace {r['graceSeconds']:g} s" if r.get("graceSeconds") else ""
        lines.append(f"host {r.get('hostName') or r['hostId']} keeps cached version "
                     f"{r['cached_version']} since {since:%Y-%m-%dT%H:%M:%SZ}{grace}: "
                     f"{r['message']}")
    return lines
