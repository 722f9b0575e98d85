"""``mm-trace``: packet tracers (trace requests) through the REST API.

Usage::

    mm-trace [--midonet-url URL] [-u USER -p PASS | -A] COMMAND
        add [--debug|--trace] (--port|--bridge|--router) ID [--ethertype N]
            [--mac-src MAC] [--mac-dst MAC] [--ip-src IP[/LEN]] [--ip-dst IP[/LEN]]
            [--ip-protocol N] [--src-port N] [--dst-port N] [--limit N]
        list [-L]              tracers in re-addable syntax (-L: live ones only: enabled,
                               their limit not reached)
        remove OPTIONS         the tracers ``add OPTIONS`` added
        flush [-D]             every tracer (-D: only expired ones: disabled, or limit reached)
        show [ID]              what the agents traced: every tracer's packets (or one's)

The API comes from ``--midonet-url``, ``MIDONET_URL`` or the default; the user from ``-u``/``-p``
or ``MIDO_USER``/``MIDO_PASSWORD``. Exits 0 when done, 1 when the API refuses or cannot be
reached, 2 on bad usage (a line names the option).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from ryu_midonet.cli.errors import CliError
from ryu_midonet.cli.http import ApiClient
from ryu_midonet.cli.settings import DEFAULT_URL
from ryu_midonet.tracing import tracers

PROG = "mm-trace"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _tracer_options(p: argparse.ArgumentParser) -> None:
    level = p.add_mutually_exclusive_group()
    level.add_argument("--debug", dest="level", action="store_const", const="--debug",
                       default="--debug", help="log matching packets at debug level (default)")
    level.add_argument("--trace", dest="level", action="store_const", const="--trace",
                       help="log matching packets at trace level")
    device = p.add_mutually_exclusive_group(required=True)
    for option in tracers.DEVICES:
        device.add_argument(option, metavar="ID", help=f"trace at this {option[2:]}")
    for option in tracers.MATCHES:
        p.add_argument(option)
    p.add_argument("--limit", type=int, help="stop after this many packets")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Manage packet tracers (the API's trace requests).")
    p.add_argument("--midonet-url", metavar="URL", help=f"API URL (default {DEFAULT_URL})")
    p.add_argument("-u", "--user")
    p.add_argument("-p", "--password")
    p.add_argument("-A", "--no-auth", action="store_true", help="do not log in")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           parser_class=_Parser)
    _tracer_options(sub.add_parser("add", help="add a tracer"))
    _tracer_options(sub.add_parser("remove", help="remove the tracers these options added"))
    ls = sub.add_parser("list", help="list the tracers")
    ls.add_argument("-L", "--live", action="store_true", help="live tracers only")
    fl = sub.add_parser("flush", help="remove every tracer")
    fl.add_argument("-D", "--dead", action="store_true", help="expired tracers only")
    sh = sub.add_parser("show", help="the packets traced (live tracing in the agents)")
    sh.add_argument("id", nargs="?", help="this tracer only (its id)")
    return p


def _body(args: argparse.Namespace) -> dict[str, Any]:
    device = next((o, getattr(args, o[2:])) for o in tracers.DEVICES
                  if getattr(args, o[2:]) is not None)
    matches = {o: getattr(args, o[2:].replace("-", "_")) for o in tracers.MATCHES}
    return tracers.body(args.level, device, matches, args.limit)


def _api(args: argparse.Namespace) -> ApiClient:
    api = ApiClient(args.midonet_url or os.environ.get("MIDONET_URL") or DEFAULT_URL)
    if not args.no_auth:
        api.login(args.user or os.environ.get("MIDO_USER", ""),
                  args.password or os.environ.get("MIDO_PASSWORD", ""))
    return api


def _live(api: ApiClient, request: dict[str, Any]) -> bool:
    """Enabled, and its limit not reached yet (counted by the agents)."""
    if not request.get("enabled"):
        return False
    if request.get("limit") == tracers.LIMIT_MAX:
        return True
    return bool(api.get(f"traces/{request['id']}/log").get("left"))


def _show(api: ApiClient, only: str | None) -> None:
    """Each tracer, the packets it may still trace, and its traced packets."""
    for request in api.get("traces"):
        if only is not None and request.get("id") != only:
            continue
        log = api.get(f"traces/{request['id']}/log")
        print(f"tracer: {tracers.args(request)} (id {request['id']},"
              f" {'unlimited' if log.get('left') == tracers.LIMIT_MAX else log.get('left')}"
              " left)")
        for entry in log.get("entries") or ():
            print(entry)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        body = _body(args) if args.command in ("add", "remove") else None
    except tracers.BadOption as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        api = _api(args)
        if args.command == "add":
            api.post("traces", body)
        elif args.command == "show":
            _show(api, args.id)
        elif args.command == "list":
            for request in api.get("traces"):
                if not args.live or _live(api, request):
                    print(f"tracer: {tracers.args(request)}")
        else:
            wanted = tracers.args(body) if body is not None else None
            removed = 0
            for request in api.get("traces"):
                if (wanted is not None and tracers.args(request) != wanted) or (
                        args.command == "flush" and args.dead and _live(api, request)):
                    continue
                api.delete(f"traces/{request['id']}")
                removed += 1
            print(f"Removed {removed} tracer(s)")
    except CliError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
