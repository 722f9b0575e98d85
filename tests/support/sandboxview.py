"""What a sandbox's switches and agents show, for integration tests and their failure reports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ryu_midonet.sandbox import Sandbox


def table_flows(sb: Sandbox, host: str, table: int = 1) -> list[str]:
    """The flows of one table of ``host``'s bridge, one line each."""
    out = sb.host(host).ofctl("dump-flows", sb.host(host).bridge, f"table={table}")
    return [line.strip() for line in str(out).splitlines() if "cookie=" in line]


def report(sb: Sandbox, flows: Callable[[str], list[str]]) -> str:
    """The flows (as ``flows`` lists them) and the agent log's end of every host."""
    parts = []
    for name, host in sb.hosts.items():
        parts.append(f"--- {name} flows\n" + "\n".join(flows(name)))
        log = Path(host.run_dir) / "agent.log"
        if log.exists():
            parts.append(f"--- {name} agent log\n" + log.read_text()[-3000:])
    return "\n".join(parts)
