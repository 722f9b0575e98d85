"""Configuration options of ryu-midonet.

All options live on ``os_ken.cfg.CONF``, the ``ConfigOpts`` instance that os-ken and
its applications share (``OSKenApp.CONF`` is the same object). Importing this module
registers them, so an application can simply read ``self.CONF.redis_url``.

Command-line options keep the dashed spelling of ``ryu-manager`` (``--redis-url``,
``--wsapi-port``); in configuration files the same options are written with
underscores (``redis_url = ...``) in the ``[DEFAULT]`` section.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from os_ken import cfg as osken_cfg
from oslo_config import cfg

CONF: cfg.ConfigOpts = osken_cfg.CONF

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_WSAPI_HOST = "127.0.0.1"
DEFAULT_WSAPI_PORT = 8181
DEFAULT_NSDB_PREFIX = "mn"

cli_opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "redis-url",
        default=DEFAULT_REDIS_URL,
        secret=True,
        help="URL of the Redis server that holds the topology store (NSDB), in "
        "redis-py form: redis://[[user]:password@]host:port/db, rediss:// for TLS "
        "or unix:///path/to/socket?db=N.",
    ),
    cfg.HostAddressOpt(
        "wsapi-host",
        default=DEFAULT_WSAPI_HOST,
        help="Address the REST API (/midonet-api) listens on. Every address other than "
        "loopback exposes the API to the network (0.0.0.0: every IPv4 address): keep "
        "auth_strategy at 'builtin' (the default, every request needs a token from POST "
        "/login) and put TLS in front of it.",
    ),
    cfg.StrOpt(
        "auth-strategy",
        default="builtin",
        choices=[("builtin", "users and tokens in the topology store; see "
                  "ryu-midonet-users"),
                 ("noauth", "no authentication: anyone who reaches the API may change "
                  "everything; refused unless wsapi_host is a loopback address")],
        help="How the REST API authenticates requests.",
    ),
    cfg.IntOpt(
        "auth-token-ttl",
        default=3600,
        min=1,
        help="Seconds a token from POST /midonet-api/login stays valid.",
    ),
    cfg.PortOpt(
        "wsapi-port",
        default=DEFAULT_WSAPI_PORT,
        help="TCP port the REST API (/midonet-api) listens on.",
    ),
    cfg.StrOpt(
        "wsapi-public-url",
        default=None,
        help="Base of every URI the REST API hands out (uri fields, Location headers), "
        "e.g. https://api.example.net when a proxy fronts the API; /midonet-api is appended. "
        "Default: http://<wsapi_host>:<wsapi_port>, with a wildcard address (0.0.0.0, ::) "
        "replaced by this machine's fully qualified host name. The request's Host header "
        "is never used.",
    ),
    cfg.IntOpt(
        "wsapi-threads",
        default=8,
        min=1,
        help="Worker threads of the REST API's HTTP server: requests served at once; "
        "further requests wait in its queue.",
    ),
    cfg.IntOpt(
        "wsapi-backlog",
        default=1024,
        min=1,
        help="Listen backlog of the REST API's socket (connections the kernel queues before "
        "the server accepts them; capped by net.core.somaxconn).",
    ),
    cfg.IntOpt(
        "wsapi-client-timeout",
        default=60,
        min=1,
        help="Seconds the REST API keeps a client connection that sends nothing (idle "
        "keep-alive, or a request that stalls half-way) before closing it.",
    ),
    cfg.IntOpt(
        "wsapi-max-body-bytes",
        default=1048576,
        min=1024,
        help="Largest request body the REST API accepts; larger ones are refused with 413 "
        "without being read.",
    ),
    cfg.IntOpt(
        "wsapi-max-connections",
        default=1000,
        min=10,
        help="Open client connections the REST API holds at most; beyond that it stops "
        "accepting until some close.",
    ),
    cfg.StrOpt(
        "host-id-file",
        default="/var/lib/ryu-midonet/host_id",
        help="File holding this host's id in the topology (the agent creates it with a new "
        "UUID on first start and keeps using it).",
    ),
    cfg.StrOpt(
        "host-name",
        default=None,
        help="Name this host registers with (default: the system host name).",
    ),
    cfg.StrOpt(
        "ovsdb-connection",
        default="unix:/var/run/openvswitch/db.sock",
        help="The local Open vSwitch database the agent manages (ovsdb-server remote).",
    ),
    cfg.StrOpt(
        "integration-bridge",
        default="br-int",
        help="The Open vSwitch bridge virtual ports are plugged into.",
    ),
    cfg.PortOpt(
        "vxlan-udp-port",
        default=6677,
        help="UDP port of the VXLAN tunnels between hosts.",
    ),
    cfg.BoolOpt(
        "check-flow-contracts",
        default=False,
        help="Check every flow the agent sends against its pipeline table's contract; a "
        "flow that breaks it is logged and not sent.",
    ),
]

opts: list[cfg.Opt] = [
    cfg.StrOpt(
        "nsdb_prefix",
        default=DEFAULT_NSDB_PREFIX,
        help="Prefix of every key the topology store writes to Redis. Deployments "
        "that share one Redis server (or tests running side by side) set distinct "
        "prefixes to keep their data apart.",
    ),
    cfg.IntOpt(
        "flow_idle_timeout",
        default=60,
        min=1,
        help="Seconds an unused flow built from a simulation stays on the switch.",
    ),
    cfg.IntOpt(
        "miss_rate_per_port",
        default=500,
        min=0,
        help="Packets per second that miss the flow table at one local port (the first "
        "packets of new flows) and reach the agent; an OpenFlow meter on the switch drops "
        "the rest, so one VM opening flows flat out cannot take the agent from the others. "
        "0: no per-port limit (every miss shares the switch's one channel to the agent).",
    ),
    cfg.IntOpt(
        "miss_burst_per_port",
        default=100,
        min=1,
        help="Misses of one local port let through at once above miss_rate_per_port before "
        "its meter drops.",
    ),
    cfg.IntOpt(
        "miss_queue_per_port",
        default=256,
        min=1,
        help="Packet-ins of one local port that may wait for the agent; the agent serves "
        "ports in turn, one packet each, and drops a port's packet-ins beyond this.",
    ),
    cfg.FloatOpt(
        "miss_max_wait",
        default=2.0,
        min=0.01,
        help="Seconds a packet-in may wait for the agent; one that waited longer is dropped "
        "unhandled (its sender has retried by then).",
    ),
    cfg.IntOpt(
        "host_alive_ttl_ms",
        default=3000,
        min=500,
        help="A host counts as alive for this long after its agent's last heartbeat; the "
        "agent beats three times as often.",
    ),
    cfg.IntOpt(
        "store_divergence_grace",
        default=0,
        min=0,
        help="Seconds an agent keeps its cached topology, ports and flows when the topology "
        "store comes back empty or older than its cache, before applying the store as it "
        "is. 0 waits for an operator to accept the store (POST "
        "/midonet-api/store_status/accept, or 'store accept' in midonet-cli).",
    ),
    cfg.BoolOpt(
        "proactive_flows",
        default=True,
        help="Install the stateless L2/L3 paths of local ports before any packet: for every "
        "MAC the bridges learned behind a port of this host, the flows toward the other MACs "
        "its bridge knows and toward the neighbours in the ARP tables of the routers linked "
        "to it, pre-simulated (decisions that need connection tracking, NAT or L4 fields "
        "stay on the reactive path). The first packet of such a flow then reaches no agent.",
    ),
    cfg.BoolOpt(
        "nat_in_datapath",
        default=True,
        help="Leave dynamic source NAT of TCP and UDP to one address to Open vSwitch's "
        "connection tracker: the simulated flow translates every new connection in the "
        "datapath, with a port from a block of the NAT address this host leased through "
        "the store, and replies are translated back there (the host of the port they enter "
        "by tunnels them to it); no agent round trip per connection. Set it the same on "
        "every host. ICMP echo, uplinks in stateful port groups and other cases stay with "
        "the agent. Never flush the switch's connection tracker (TIME_WAIT: see README).",
    ),
    cfg.BoolOpt(
        "conntrack_in_datapath",
        default=True,
        help="Leave connection tracking (rule conditions matchForwardFlow/matchReturnFlow) "
        "to Open vSwitch's connection tracker: flows ask the tracker and are megaflows, new "
        "connections are committed where they leave the topology (and copied to the other "
        "hosts of a stateful port group or router bound on several hosts); no agent round "
        "trip per connection. Set it on every host. Non-IPv4 packets, fragments and other "
        "protocols than TCP, UDP and ICMP keep the flow-state table.",
    ),
    cfg.BoolOpt(
        "conntrack_copies_tcp_liberal",
        default=True,
        help="With conntrack_in_datapath, on a host with a port of a stateful port group or "
        "router bound on several hosts, turn Open vSwitch's TCP sequence checking off "
        "(ovs-appctl dpctl/ct-disable-tcp-seq-chk, for the whole switch): that host's "
        "tracker may see only the replies of a connection and would drop them past the "
        "first 64 KB. false: leave it to the operator.",
    ),
    cfg.IntOpt(
        "conntrack_copies_tcp_timeout",
        default=3600,
        min=0,
        help="With conntrack_in_datapath, seconds a TCP connection through a stateful port "
        "group or router bound on several hosts may idle before the switch's tracker forgets "
        "it on this host. Each host's tracker sees part of the handshake only and keeps the "
        "connection in an opening state (tcp_syn_recv, 30 s by default), so the agent sets "
        "it in a timeout policy on the zone of each such scope. The committing host cannot "
        "tell closed connections from idle ones: they stay as long, and so many new "
        "connections per second fill the tracker (3,000,000 entries by default: about "
        "830/s at 3600 s). 0: leave the zones' timeouts to the operator.",
    ),
    cfg.IntOpt(
        "nat_datapath_block_bits",
        default=12,
        min=6,
        max=15,
        help="With nat_in_datapath, a host's ports of a NAT address are aligned blocks of "
        "2**bits ports leased through the store (12: 4096 ports, 15 blocks in 1024-65535). "
        "A host leases its first block with its first connection through the address, and "
        "the next one ahead of need once its switch's tracker holds connections on half of "
        "its newest block's ports (counted every 5 s); a block without connections any more "
        "is released when its lease runs out. A closed connection's port stays taken for up "
        "to a minute, so one block takes about 2**bits / 60 new connections per second to "
        "one server port (12: about 68) before the next is leased, and a burst of up to "
        "2**bits / 2 new connections to one server port fits before the next one is "
        "there (fewer bits: more hosts, smaller bursts). Hosts beyond the number "
        "of blocks translate through the agent. Set it the same on every host.",
    ),
    cfg.IntOpt(
        "proactive_max_flows_per_port",
        default=256,
        min=0,
        help="Proactive flows one local port gets at most (L2 destinations first).",
    ),
    cfg.StrOpt(
        "bgp_netns_prefix",
        default="rm-",
        help="With the bgp app: prefix of the namespaces and interfaces of the BGP uplinks' "
        "bgpd.",
    ),
    cfg.StrOpt(
        "bgp_run_dir",
        default="/run/ryu-midonet/bgp",
        help="With the bgp app: directory of the BGP uplinks' bgpd configuration, PID and "
        "vty files.",
    ),
    cfg.StrOpt(
        "health_monitor_netns_prefix",
        default="rm-",
        help="With the health_monitor app: prefix of the namespaces and interfaces that "
        "probe load-balancer pools.",
    ),
]


def register_opts(conf: cfg.ConfigOpts = CONF) -> None:
    """Register the ryu-midonet options on ``conf``.

    Safe to call more than once, also after ``conf`` has parsed its command line:
    options that are already registered are left alone.
    """
    for opt in cli_opts:
        if opt.dest not in conf:
            conf.register_cli_opt(opt)
    for opt in opts:
        if opt.dest not in conf:
            conf.register_opt(opt)


def list_opts() -> Sequence[tuple[str | None, list[cfg.Opt]]]:
    """Return the options for ``oslo-config-generator`` (namespace ``ryu_midonet``)."""
    return [(None, copy.deepcopy(cli_opts + opts))]


register_opts(CONF)
