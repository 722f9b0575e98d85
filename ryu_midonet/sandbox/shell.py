"""Running commands, optionally inside a network namespace."""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Mapping, Sequence

LOG = logging.getLogger(__name__)

Command = str | Sequence[str]


class CommandError(RuntimeError):
    """A command exited with a non-zero status."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"{shlex.join(argv)} exited {returncode}: {stderr.strip()}")


def argv_of(cmd: Command) -> list[str]:
    """A command given as a string is split like a shell would."""
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)


def in_netns(netns: str | None, cmd: Command) -> list[str]:
    """The argv that runs ``cmd`` inside ``netns`` (or as it is, for the root namespace)."""
    argv = argv_of(cmd)
    return ["ip", "netns", "exec", netns, *argv] if netns else argv


def run(cmd: Command, *, netns: str | None = None, env: Mapping[str, str] | None = None,
        check: bool = True, timeout: float = 30.0,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command to completion and capture its output as text."""
    argv = in_netns(netns, cmd)
    LOG.debug("run: %s", shlex.join(argv))
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout,
                          input=stdin, check=False)
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stderr or proc.stdout)
    return proc


def output(cmd: Command, *, netns: str | None = None, env: Mapping[str, str] | None = None,
           timeout: float = 30.0, stdin: str | None = None) -> str:
    """The standard output of a command that must succeed, stripped."""
    return run(cmd, netns=netns, env=env, timeout=timeout, stdin=stdin).stdout.strip()
