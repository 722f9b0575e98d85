"""Starting a host's agent from the description's command template (see :mod:`.config`)."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

from ryu_midonet.sandbox import procs
from ryu_midonet.sandbox.config import AgentSpec
from ryu_midonet.sandbox.host import Host


def command(spec: AgentSpec, host: Host, redis_sock: Path,
            redis_url: str | None = None) -> list[str]:
    """The agent's argv for ``host``: the template split, then each word formatted.

    ``{redis_url}`` is ``redis_url`` when given (the sentinel URL), else the unix socket's."""
    fields = {**host.facts(), "redis_sock": str(redis_sock),
              "redis_url": redis_url or f"unix://{redis_sock}?db=0",
              "bin": str(Path(sys.executable).parent), "python": sys.executable}
    try:
        return [word.format(**fields) for word in shlex.split(spec.command)]
    except KeyError as exc:
        raise RuntimeError(f"agent command: unknown field {exc} (known: "
                           f"{', '.join(sorted(fields))})") from None


def start(spec: AgentSpec, host: Host, redis_sock: Path, redis_url: str | None = None
          ) -> tuple[subprocess.Popen[bytes], procs.ProcessRecord]:
    """Start the agent inside the host's namespace, logging to ``<host dir>/agent.log``."""
    return procs.spawn(f"agent-{host.name}", command(spec, host, redis_sock, redis_url),
                       log=host.run_dir / "agent.log", pidfile=host.run_dir / "agent.pid",
                       cwd=host.run_dir, netns=host.netns, env=host.switch.env)


def switch_connected(host: Host) -> bool:
    """True when the switch holds a TCP connection to the agent's OpenFlow port (only a live
    agent listens there: the kernel closes a dead one's sockets)."""
    out = host.exec(["ss", "-Htn", "state", "established", f"( sport = :{host.ofport} )"])
    return bool(out.stdout.strip())


def wait_connected(spec: AgentSpec, host: Host, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the agent is the integration bridge's connected controller: the switch has
    a connection to its port and reports its controller connected. (The report alone could be
    a stopped agent's: the switch refreshes it only every few seconds.)"""
    deadline = time.monotonic() + spec.connect_timeout
    while not (switch_connected(host) and host.switch.controller_connected(host.bridge)):
        if proc.poll() is not None:
            raise RuntimeError(f"the agent of {host.name} exited with {proc.returncode}; "
                               f"see {host.run_dir / 'agent.log'}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the agent of {host.name} did not connect to {host.bridge} "
                               f"within {spec.connect_timeout:.0f} s")
        time.sleep(0.1)
