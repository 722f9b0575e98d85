"""``ryu-midonet-trace``: where would this packet go, and which flows would it get?

Simulates a packet described on the command line against the topology in the store, as the
agent of its ingress port's host would handle it, with no traffic and nothing written (like
``ovn-trace``). Prints every device, chain and rule the packet met with each decision, the
outcome (egress ports with rewrites, or why it is dropped) and the OpenFlow messages the agent
would send for it (table, match, actions, cookie).

Usage::

    ryu-midonet-trace [--config-file F] [--redis-url URL] [--nsdb-prefix P]
        (--ingress-port PORT_ID | --device bridge|router NAME_OR_ID --port N)
        [--eth-src MAC] [--eth-dst MAC] [--ethertype ipv4|arp|N] [--ip-src IP] [--ip-dst IP]
        [--ip-protocol icmp|tcp|udp|N] [--src-port N] [--dst-port N]
        [--icmp-type N] [--icmp-code N] [--ttl N] [--no-datapath-conntrack]

Exits 0 after a trace, 1 when the store cannot be read, 2 on bad input (a line names the
option).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import redis
from oslo_config import cfg

from ryu_midonet import config
from ryu_midonet.nsdb.cache import TopologyCache
from ryu_midonet.nsdb.connect import UrlError
from ryu_midonet.nsdb.store import Store
from ryu_midonet.sim.core.topology import CacheView
from ryu_midonet.statestore import redis_state
from ryu_midonet.tracing import offline, render
from ryu_midonet.tracing.packet import BadField, Description, build

PROG = "ryu-midonet-trace"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Trace a packet through the virtual topology without "
                                       "sending it.")
    p.add_argument("--config-file", action="append", default=[], metavar="FILE",
                   help="ryu-midonet.conf to read redis_url and nsdb_prefix from")
    p.add_argument("--redis-url", help="the topology store (default: from the configuration)")
    p.add_argument("--nsdb-prefix", help="key prefix of the store (default: from the "
                                         "configuration)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--ingress-port", metavar="PORT_ID", help="the exterior port it enters by")
    where.add_argument("--device", nargs=2, metavar=("bridge|router", "NAME_OR_ID"),
                       help="the device whose --port N it enters by")
    p.add_argument("--port", help="with --device: the port's number (0-based, ports by id)")
    for option, help_ in (("--eth-src", "source MAC"), ("--eth-dst", "destination MAC"),
                          ("--ethertype", "ipv4 (default), arp or a number"),
                          ("--ip-src", "source IPv4 address"),
                          ("--ip-dst", "destination IPv4 address"),
                          ("--ip-protocol", "icmp (default), tcp, udp or a number"),
                          ("--src-port", "TCP/UDP source port"),
                          ("--dst-port", "TCP/UDP destination port"),
                          ("--icmp-type", "ICMP type (default 8, echo request)"),
                          ("--icmp-code", "ICMP code (default 0)"),
                          ("--ttl", "IP TTL (default 64)")):
        p.add_argument(option, help=help_)
    p.add_argument("--no-datapath-conntrack", action="store_true",
                   help="as an agent with conntrack_in_datapath off")
    return p


def _description(args: argparse.Namespace) -> Description:
    return Description(args.eth_src, args.eth_dst, args.ethertype, args.ip_src, args.ip_dst,
                       args.ip_protocol, args.src_port, args.dst_port, args.icmp_type,
                       args.icmp_code, args.ttl)


def _store(args: argparse.Namespace) -> Store:
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    files = [a for f in args.config_file for a in ("--config-file", f)]
    conf(args=files, project="ryu-midonet", prog=PROG)
    return Store.from_url(args.redis_url or conf.redis_url,
                          args.nsdb_prefix or conf.nsdb_prefix)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.device is not None:
        if args.device[0] not in ("bridge", "router"):
            return _usage("--device", f"{args.device[0]!r} is not bridge or router")
        if args.port is None:
            return _usage("--port", "required with --device")
    elif args.port is not None:
        return _usage("--port", "needs --device")
    try:
        packet = build(_description(args))
    except BadField as exc:
        return _usage(exc.option, str(exc).split(": ", 1)[1])
    try:
        store = _store(args)
        cache = TopologyCache(store)
        cache.resync()
        view = CacheView(cache)
        try:
            port_id = offline.find_port(view, args.device, str(args.ingress_port or args.port))
            traced = offline.trace(view, offline.trace_state(redis_state(store)), port_id,
                                   packet, not args.no_datapath_conntrack)
        except offline.UnknownPort as exc:
            return _usage("--device" if args.device else "--ingress-port", str(exc))
        lines = render.render(traced, view)
    except (cfg.Error, UrlError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except redis.RedisError as exc:
        print(f"{PROG}: the store cannot be read: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def _usage(option: str, message: str) -> int:
    print(f"{PROG}: error: {option}: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
