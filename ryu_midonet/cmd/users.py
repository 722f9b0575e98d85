"""``ryu-midonet-users``: the users of the REST API, in the topology store.

Usage::

    ryu-midonet-users [--config-file F] [--redis-url URL] [--nsdb-prefix P] COMMAND
        add NAME --role admin|readonly [--password-stdin]
        passwd NAME [--password-stdin]
        delete NAME
        list

Passwords are read from standard input (``--password-stdin``, one line) or at a prompt, never
from the command line. ``list`` shows names and roles only. Exits 0 on success, 1 when the
request cannot be done (no such user, bad name or role, store unreachable), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

import redis
from oslo_config import cfg

from ryu_midonet import config
from ryu_midonet.auth import ROLES, Auth, UserError
from ryu_midonet.nsdb.connect import UrlError

PROG = "ryu-midonet-users"


class Refused(Exception):
    """A command that cannot run as given."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Manage the users of the REST API (roles: admin reads and "
                               "writes, readonly only reads).")
    p.add_argument("--config-file", action="append", default=[], metavar="FILE",
                   help="ryu-midonet.conf to read redis_url and nsdb_prefix from")
    p.add_argument("--redis-url", help="the topology store (default: from the configuration)")
    p.add_argument("--nsdb-prefix", help="key prefix of the store (default: from the "
                                         "configuration)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = sub.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    pw = sub.add_parser("passwd", help="set a user's password")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true",
                    help="read the password from the first line of standard input")
    rm = sub.add_parser("delete", help="delete a user (its tokens stop working)")
    rm.add_argument("name")
    sub.add_parser("list", help="names and roles of the users")
    return p


def _store(args: argparse.Namespace) -> Auth:
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    files = [a for f in args.config_file for a in ("--config-file", f)]
    try:
        conf(args=files, project="ryu-midonet", prog=PROG)
    except cfg.Error as exc:
        raise Refused(str(exc)) from None
    url = args.redis_url or conf.redis_url
    try:
        return Auth.from_url(url, args.nsdb_prefix or conf.nsdb_prefix)
    except UrlError as exc:
        raise Refused(str(exc)) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise Refused("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise Refused("no terminal to ask for the password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise Refused("the passwords differ")
    return first


def run(args: argparse.Namespace) -> None:
    auth = _store(args)
    users = auth.users
    if args.command == "list":
        for user in users.list():
            print(f"{user.name}\t{user.role}")
        return
    if args.command == "delete":
        users.delete(args.name)
        print(f"deleted user {args.name}")
        return
    if users.get(args.name) is None and args.command == "passwd":
        raise UserError(f"no user {args.name!r}")
    if args.command == "add":
        if users.get(args.name) is not None:
            raise UserError(f"user {args.name!r} already exists")
        users.add(args.name, args.role, _password(args.password_stdin))
        print(f"added user {args.name} (role {args.role})")
    else:
        users.set_password(args.name, _password(args.password_stdin))
        print(f"changed the password of {args.name}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run(args)
    except (Refused, UserError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        print(f"{PROG}: error: cannot reach the topology store: {exc}", file=sys.stderr)
        return 1
    except redis.ResponseError as exc:
        print(f"{PROG}: error: the topology store refused: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
