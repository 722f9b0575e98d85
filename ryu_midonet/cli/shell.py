"""The interactive prompt ``midonet> `` and the reporting of failed commands."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from ryu_midonet.cli import model as m
from ryu_midonet.cli.commands import NoMatches, run_line
from ryu_midonet.cli.errors import CliError
from ryu_midonet.cli.session import Session

PROMPT = "midonet> "
PROG = "midonet-cli"


def report(message: str, err: TextIO | None = None) -> None:
    """One line on stderr: ``midonet-cli: error: ...``."""
    sys.stdout.flush()
    stream = err or sys.stderr
    stream.write(f"{PROG}: error: {message}\n")
    stream.flush()


def execute(line: str, session: Session) -> bool:
    """Run one command line, print its output or its error; whether it succeeded."""
    try:
        run_line(line, session, print)
    except BrokenPipeError:
        _quiet_stdout()
        raise
    except NoMatches:
        return False
    except CliError as exc:
        report(str(exc))
        return False
    except Exception as exc:  # noqa: BLE001 - the user gets one line, never a traceback
        report(f"internal error: {exc.__class__.__name__}: {exc}")
        return False
    sys.stdout.flush()
    return True


def _quiet_stdout() -> None:
    """The reader went away (``| head -n1``): send what is left of stdout nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def interactive(session: Session) -> int:
    """Read commands until EOF, quit or exit; 1 when the last command failed."""
    if sys.stdin.isatty():
        _enable_readline(session)
    ok = True
    while True:
        try:
            line = input(PROMPT)
        except EOFError:
            print()
            break
        except KeyboardInterrupt:
            print()
            continue
        if line.strip() in ("quit", "exit"):
            break
        if line.strip():
            ok = execute(line, session)
    return 0 if ok else 1


def _enable_readline(session: Session) -> None:
    try:
        import readline
    except ImportError:
        return
    words = sorted({"list", "show", "create", "add", "delete", "set", "clear", "describe",
                    "sett", "cleart", "help", "quit", "exit", *_model_words()})

    def complete(text: str, state: int) -> str | None:
        pool = words + session.aliases.all_names()
        found = [w for w in pool if w.startswith(text)]
        return found[state] + " " if state < len(found) else None

    readline.set_completer_delims(" \t")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")


def _model_words() -> set[str]:
    out: set[str] = set(m.SINGLETONS)
    pending = [m.ROOT]
    seen: set[int] = set()
    while pending:
        otype = pending.pop()
        if id(otype) in seen:
            continue
        seen.add(id(otype))
        out.update(otype.names())
        for name, coll in otype.children.items():
            out.add(name)
            pending.extend(coll.types)
    return out
