"""``ryu-midonet-sandbox``: bring a multi-host sandbox up and down, and work inside it.

    ryu-midonet-sandbox up FILE.yaml [--run-dir DIR]   build it (see etc/sandbox/*.yaml)
    ryu-midonet-sandbox down [--run-dir DIR]           stop its processes, remove its namespaces
    ryu-midonet-sandbox clean [--prefix rm-] [--run-dir DIR ...]
                                                       remove what crashed runs left behind
    ryu-midonet-sandbox status [--run-dir DIR] [--json]
    ryu-midonet-sandbox exec [--run-dir DIR] HOST|VM -- CMD ...
    ryu-midonet-sandbox ofctl [--run-dir DIR] HOST ARGS ...   (ovs-ofctl -O OpenFlow13)
    ryu-midonet-sandbox vsctl|appctl [--run-dir DIR] HOST ARGS ...
    ryu-midonet-sandbox wire static|normal [--run-dir DIR]   connect the VMs without an agent
    ryu-midonet-sandbox stop|kill|start|restart [--run-dir DIR] PART [HOST]
                                                       one part, for failure tests (below)

PART is ``agent HOST``, ``ovs HOST`` (its ovsdb-server and ovs-vswitchd), ``redis``, ``api``
and, in sentinel mode, ``redis-2``, ``sentinel-1`` .. ``sentinel-3``, ``redis-master`` and
``redis-replica`` (by the role the sentinels give them now). ``kill`` is SIGKILL (a crash);
``restart --kill`` kills before starting again; ``start|restart --empty`` brings a
redis-server back without its data. See :mod:`ryu_midonet.sandbox.parts`.

The run directory defaults to $RYU_MIDONET_SANDBOX_DIR or /run/ryu-midonet-sandbox/default.
Must run as root (network namespaces).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ryu_midonet.nsdb.connect import redact
from ryu_midonet.sandbox import teardown
from ryu_midonet.sandbox.config import DEFAULT_PREFIX, ConfigError
from ryu_midonet.sandbox.sandbox import Sandbox
from ryu_midonet.sandbox.shell import CommandError, in_netns
from ryu_midonet.sandbox.state import DEFAULT_RUN_DIR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ryu-midonet-sandbox",
                                     description="Multi-host ryu-midonet sandbox on one machine.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command")
    run_dir = argparse.ArgumentParser(add_help=False)
    run_dir.add_argument("--run-dir", default=str(DEFAULT_RUN_DIR),
                         help=f"where the sandbox keeps its state (default {DEFAULT_RUN_DIR})")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", parents=[run_dir], help="build a sandbox from a YAML file")
    up.add_argument("file")
    sub.add_parser("down", parents=[run_dir], help="take the sandbox down")
    clean = sub.add_parser("clean", help="remove leftovers of crashed sandboxes")
    clean.add_argument("--prefix", default=DEFAULT_PREFIX)
    clean.add_argument("--run-dir", action="append", default=[],
                       help="also look at this run directory (repeatable)")
    status = sub.add_parser("status", parents=[run_dir], help="show what runs")
    status.add_argument("--json", action="store_true")
    ex = sub.add_parser("exec", parents=[run_dir], help="run a command in a host or VM")
    ex.add_argument("name")
    ex.add_argument("cmd", nargs=argparse.REMAINDER)
    for tool in ("ofctl", "vsctl", "appctl"):
        p = sub.add_parser(tool, parents=[run_dir], help=f"ovs-{tool} against a host's switch")
        p.add_argument("host")
        p.add_argument("args", nargs=argparse.REMAINDER)
    wire = sub.add_parser("wire", parents=[run_dir], help="connect the VMs without an agent")
    wire.add_argument("mode", choices=["static", "normal"])
    for action, text in (("stop", "stop one part (SIGTERM)"), ("kill", "SIGKILL one part"),
                         ("start", "start a stopped part again"),
                         ("restart", "stop and start one part")):
        p = sub.add_parser(action, parents=[run_dir], help=text)
        p.add_argument("part", help="agent, ovs, redis, redis-2, redis-master, redis-replica, "
                                    "sentinel-N or api")
        p.add_argument("host", nargs="?", help="the host of an agent or ovs part")
        if action in ("start", "restart"):
            p.add_argument("--empty", action="store_true",
                           help="redis: remove its data first, so it comes back empty")
        if action == "restart":
            p.add_argument("--kill", action="store_true", help="SIGKILL instead of SIGTERM")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return _dispatch(args)
    except KeyError as exc:
        print(f"ryu-midonet-sandbox: {exc.args[0]}", file=sys.stderr)
        return 1
    except (ConfigError, RuntimeError, CommandError, OSError) as exc:
        print(f"ryu-midonet-sandbox: {exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "up":
        sb = Sandbox.from_yaml(args.file, args.run_dir).up()
        _print_status(sb.status())
    elif args.command == "down":
        if not teardown.down(Path(args.run_dir).resolve()):
            print(f"no sandbox is up in {args.run_dir}")
    elif args.command == "clean":
        for line in teardown.clean(args.prefix, args.run_dir):
            print(f"removed {line}")
    elif args.command == "status":
        status = Sandbox.attach(args.run_dir).status()
        if args.json:
            print(json.dumps(status, indent=2))
        else:
            _print_status(status)
    elif args.command == "exec":
        cmd = _rest(args.cmd) or [os.environ.get("SHELL", "/bin/sh")]
        node = Sandbox.attach(args.run_dir).node(args.name)
        argv = in_netns(node.netns, cmd)
        os.execvp(argv[0], argv)
    elif args.command in ("ofctl", "vsctl", "appctl"):
        host = Sandbox.attach(args.run_dir).host(args.host)
        out = getattr(host, args.command)(*_rest(args.args))
        if out:
            print(out)
    elif args.command in ("stop", "kill", "start", "restart"):
        sb = Sandbox.attach(args.run_dir)
        if args.command in ("stop", "kill"):
            sb.stop_part(args.part, args.host, kill=args.command == "kill")
        elif args.command == "start":
            sb.start_part(args.part, args.host, empty=args.empty)
        else:
            sb.restart_part(args.part, args.host, kill=args.kill, empty=args.empty)
    elif args.command == "wire":
        sb = Sandbox.attach(args.run_dir)
        if args.mode == "static":
            from ryu_midonet.sandbox.flows import wire_static
            for name, key in wire_static(sb).items():
                print(f"{name}: tunnel key {key:#x}")
        else:
            from ryu_midonet.sandbox.normal import wire_normal
            wire_normal(sb)
    return 0


def _rest(words: list[str]) -> list[str]:
    return words[1:] if words[:1] == ["--"] else words


def _print_status(status: dict[str, Any]) -> None:
    print(f"run dir   {status['run_dir']} ({'up' if status['up'] else 'down'})")
    redis = status["redis"]
    if redis["sentinel"]:
        print(f"redis     {redact(redis['url'])}  master={redis['master'] or 'unknown'}")
        for name, srv in {**redis["servers"], **redis["sentinels"]}.items():
            role = " (master)" if name == redis["master"] else ""
            print(f"  {name:<10} {srv['address']:<20} alive={srv['alive']}{role}")
    else:
        urls = f"{redact(redis['url'])}  {redact(redis['unix_url'])}"
        print(f"redis     {urls}  alive={redis['alive']}")
    api = status["api"]
    print(f"api       {api['url'] or '-'}  alive={api['alive']}")
    if api.get("user"):
        print(f"login     user {api['user']}, password in {api['password_file']} "
              f"(a midonetrc: {api['midonetrc']})")
        print(f"          midonet-cli --midonet-url {api['url']} -u {api['user']} "
              f"-p \"$(cat {api['password_file']})\"")
    print(f"underlay  netns {status['underlay']['netns']} bridge {status['underlay']['bridge']}")
    for name, h in status["hosts"].items():
        print(f"host {name:<8} netns {h['netns']:<14} underlay {h['underlay_ip']:<12} "
              f"ovsdb {h['ovsdb']}  of tcp:127.0.0.1:{h['ofport']}  host_id {h['host_id']}  "
              f"ovs={h['ovs_vswitchd']} agent={h['agent']}")
    for name, v in status["vms"].items():
        print(f"vm   {name:<8} netns {v['netns']:<14} on {v['host']:<6} {v['ip']:<18} "
              f"{v['mac']}  host interface {v['interface']}")
