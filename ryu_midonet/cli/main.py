"""The ``midonet-cli`` console script.

Usage::

    midonet-cli [-A] [--midonet-url URL] [-u USER] [-p PASS] [-t TENANT] [-e COMMAND...]

With ``-e`` it runs one command and exits 0 when it succeeded, 1 when it failed (a filtered
``list`` that matches nothing also exits 1, silently, so ``||`` can test for an object).
Without it, it reads commands at the prompt ``midonet> ``. Unless ``-A`` is given it first
logs in with ``POST <url>/login`` (HTTP Basic) and sends the token as ``X-Auth-Token``; an
API without ``/login`` is used without a token. It exits 2 when it cannot start.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ryu_midonet.cli import settings as st
from ryu_midonet.cli.errors import CliError
from ryu_midonet.cli.http import ApiClient
from ryu_midonet.cli.session import Session
from ryu_midonet.cli.shell import execute, interactive, report


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print()
        return 130
    except BrokenPipeError:  # the reader of stdout went away, e.g. "| head -n1"
        return 141


def _main(argv: Sequence[str] | None) -> int:
    s = st.load(argv)
    api = ApiClient(s.url)
    if not s.no_auth:
        try:
            api.login(s.user, s.password, s.project_id)
        except CliError as exc:
            hint = "" if s.user else (" (no user name given: use -u USER -p PASS, or username "
                                      "and password in ~/.midonetrc [cli])")
            report(f"cannot log in: {exc}{hint}")
            return 2
    session = Session(api, s.tenant)
    if s.command is not None:
        if not s.command.strip():
            report("-e needs a command")
            return 2
        return 0 if execute(s.command, session) else 1
    return interactive(session)


if __name__ == "__main__":
    sys.exit(main())
