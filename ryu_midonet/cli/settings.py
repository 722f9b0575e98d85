"""Where the CLI connects and as whom: flags, then environment, then ``~/.midonetrc``."""

from __future__ import annotations

import argparse
import configparser
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8181/midonet-api"
USAGE = ("midonet-cli [-A] [--midonet-url URL] [-u USER] [-p PASS] [-t TENANT] "
         "[-e COMMAND...]")


@dataclass
class Settings:
    url: str = DEFAULT_URL
    no_auth: bool = False
    user: str = ""
    password: str = ""
    tenant: str | None = None
    project_id: str | None = None  # sent as X-Auth-Project when logging in
    command: str | None = None  # the -e command, None for the interactive prompt


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="midonet-cli", usage=USAGE,
        description="Command line of the MidoNet v5 REST API. Without -e it reads commands at "
                    "the prompt 'midonet> '; type help there.")
    p.add_argument("-A", "--no-auth", action="store_true",
                   help="do not log in (no authentication token)")
    p.add_argument("--midonet-url", metavar="URL",
                   help=f"API URL (env MIDONET_URL, ~/.midonetrc [cli] api_url, "
                        f"default {DEFAULT_URL})")
    p.add_argument("-u", "--user", help="user name for POST /login")
    p.add_argument("-p", "--password", metavar="PASS", help="password for POST /login")
    p.add_argument("-t", "--tenant", help="tenant of new objects and of listings")
    p.add_argument("-e", "--eval", action="store_true",
                   help="run one command (the rest of the arguments) and exit")
    return p


def _rc(home: Path) -> dict[str, str]:
    cfg = configparser.ConfigParser()
    try:
        cfg.read(home / ".midonetrc")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return {}
    return dict(cfg["cli"]) if cfg.has_section("cli") else {}


def _command(words: list[str]) -> str:
    """The -e words as one line; a word with blanks in it stays one word."""
    if len(words) == 1:
        return words[0]
    return " ".join(shlex.quote(w) if any(c.isspace() for c in w) else w for w in words)


def load(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
         home: Path | None = None) -> Settings:
    """Settings from ``argv`` (flags win), ``env`` and ``home/.midonetrc``."""
    env = os.environ if env is None else env
    rc = _rc(Path.home() if home is None else home)
    argv = list(sys.argv[1:] if argv is None else argv)
    words: list[str] | None = None
    for i, arg in enumerate(argv):
        if arg in ("-e", "--eval"):  # everything after it is the command
            argv, words = argv[:i], argv[i + 1:]
            break
    args = _parser().parse_args(argv)
    s = Settings()
    s.url = (args.midonet_url or env.get("MIDONET_URL") or env.get("MIDO_API_URL")
             or rc.get("api_url") or DEFAULT_URL)
    s.no_auth = args.no_auth
    s.user = args.user or env.get("MIDO_USER") or rc.get("username") or ""
    s.password = args.password or env.get("MIDO_PASSWORD") or rc.get("password") or ""
    s.tenant = args.tenant or env.get("MIDO_TENANT") or rc.get("tenant") or None
    s.project_id = env.get("MIDO_PROJECT_ID") or rc.get("project_id") or None
    if words is not None:
        s.command = _command(words[1:] if words[:1] == ["--"] else words)
    return s
