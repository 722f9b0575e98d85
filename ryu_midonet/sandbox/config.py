"""The sandbox description: a YAML document (or the same data as a dict).

Example (every key but ``hosts`` has a default)::

    name: demo               # optional; namespaces become rm-demo-h1 ... so sandboxes can coexist
    prefix: rm-              # prefix of every namespace and root-namespace interface
    tunnel: vxlan            # vxlan (UDP 6677, remote_ip=flow key=flow) or gre (key=flow)
    tunnel_port: true        # add the flow-based tunnel port to br-int (false: the agent does)
    vxlan_port: 6677
    bridge: br-int           # integration bridge: netdev, fail_mode=secure, OpenFlow13 only
    openflow_port: 6653      # controller tcp:127.0.0.1:PORT inside every host namespace
    underlay:
      cidr: 10.99.0.0/24     # hosts without underlay_ip get .1, .2, ... in host order
      mtu: 9000              # room for the tunnel headers on 1500-byte VM frames
    redis:
      port: 0                # 0: a free port on 127.0.0.1 (a unix socket is always made too);
                             # with sentinel, the first server's (the other ports are free ones)
      sentinel: false        # true: a master, one replica and three sentinels (see below)
      service: sandbox       # with sentinel: the name the sentinels monitor the master by
      address: 10.99.0.254   # with sentinel: the root namespace's address on the underlay,
                             # where every server and sentinel listens (default: the highest
                             # address of the underlay cidr that no host uses)
    api: true                # the REST API in the root namespace; or {port: 8181}; or false
    agent: none              # none | default | "template" | {command: ..., connect_timeout: 30}
    hosts:
      - name: h1
        underlay_ip: 10.99.0.1   # optional
        host_id: 6f0a...         # optional; a new UUID otherwise, written to <host dir>/host_id
      - name: h2
    vms:
      - name: vm1
        host: h1
        interface: rm-vm1-tap    # host-side veth end (the name bound to a virtual port);
                                 # default <prefix><vm>-tap; never added to br-int by the sandbox
        mac: 02:00:00:00:01:01   # optional; derived from the VM's position otherwise
        ip: 10.0.0.11/24
        gateway: 10.0.0.1        # optional default route
        mtu: 1500                # optional

An agent command template is split like a shell command line and formatted with the host's
attributes: ``{host}``, ``{host_id}``, ``{netns}``, ``{run_dir}`` (the host's directory),
``{ovsdb}`` (``unix:<run_dir>/db.sock``), ``{ofport}``, ``{bridge}``, ``{underlay_ip}``,
``{tunnel}``, ``{redis_sock}``, ``{redis_url}`` (``unix://<sock>?db=0``), ``{bin}`` (the
directory of the running interpreter, where this project's console scripts live) and
``{python}``. ``default`` stands for :data:`DEFAULT_AGENT`.

Every redis-server keeps its data in an append-only file with fsync on every write, so a
write it acknowledged survives ``kill -9``. With ``redis: {sentinel: true}`` the store is a
master (``redis``), a replica (``redis-2``) and three sentinels (``sentinel-1`` ..
``sentinel-3``), all reached over TCP at ``address``: a veth from the root namespace into the
underlay switch carries it, so host namespaces reach it too. ``{redis_url}`` is then
``redis+sentinel://ADDRESS:P1,ADDRESS:P2,ADDRESS:P3/SERVICE/0``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PREFIX = "rm-"
DEFAULT_UNDERLAY = "10.99.0.0/24"
DEFAULT_UNDERLAY_MTU = 9000
DEFAULT_OPENFLOW_PORT = 6653
VXLAN_UDP_PORT = 6677
TUNNEL_TYPES = ("vxlan", "gre")
IFNAMSIZ = 15  # longest Linux interface name
DEFAULT_AGENT = (
    "{bin}/ryu-midonet-manager --redis-url {redis_url} --ofp-tcp-listen-port {ofport}"
    " --host-id-file {run_dir}/host_id --host-name {host} --ovsdb-connection {ovsdb}"
    " --integration-bridge {bridge} --check-flow-contracts ryu_midonet.apps.agent"
    " ryu_midonet.apps.dhcp ryu_midonet.apps.bgp ryu_midonet.apps.health_monitor"
)
# Names the sandbox uses itself inside namespaces it owns.
RESERVED_NAMES = ("underlay",)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


class ConfigError(ValueError):
    """The description is not valid."""


@dataclass(frozen=True)
class HostSpec:
    """One hypervisor: a namespace with its own Open vSwitch."""

    name: str
    underlay_ip: ipaddress.IPv4Interface
    host_id: str | None = None


@dataclass(frozen=True)
class VmSpec:
    """One VM: a namespace with one veth whose other end sits in its host's namespace."""

    name: str
    host: str
    interface: str
    mac: str
    ip: ipaddress.IPv4Interface
    gateway: ipaddress.IPv4Address | None = None
    mtu: int = 1500


@dataclass(frozen=True)
class AgentSpec:
    """How to start the agent of each host."""

    command: str
    connect_timeout: float = 30.0


@dataclass(frozen=True)
class SandboxSpec:
    """A whole sandbox, validated."""

    hosts: tuple[HostSpec, ...]
    vms: tuple[VmSpec, ...] = ()
    name: str | None = None
    prefix: str = DEFAULT_PREFIX
    tunnel: str = "vxlan"
    tunnel_port: bool = True
    vxlan_port: int = VXLAN_UDP_PORT
    bridge: str = "br-int"
    openflow_port: int = DEFAULT_OPENFLOW_PORT
    underlay_mtu: int = DEFAULT_UNDERLAY_MTU
    redis_port: int = 0
    redis_sentinel: bool = False
    redis_service: str = "sandbox"
    store_address: ipaddress.IPv4Interface | None = None
    api: bool = True
    api_port: int = 0
    agent: AgentSpec | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def namespace(self, name: str) -> str:
        """The network namespace of a host or VM (or ``underlay``)."""
        middle = f"{self.name}-" if self.name else ""
        return f"{self.prefix}{middle}{name}"

    @property
    def store_link(self) -> str:
        """The root namespace's veth into the underlay (sentinel mode): ``<prefix>[<name>-]st``."""
        return self.namespace("st")

    def host(self, name: str) -> HostSpec:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)


def load(source: str | Path | dict[str, Any]) -> SandboxSpec:
    """Parse a YAML file, YAML text or dict into a :class:`SandboxSpec`."""
    if isinstance(source, dict):
        data = source
    else:
        text = str(source)
        path = Path(text)
        if "\n" not in text and path.exists():
            text = path.read_text()
        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError("the sandbox description must be a mapping")
    return parse(data)


def parse(data: dict[str, Any]) -> SandboxSpec:
    """Validate a description given as a dict."""
    known = {"name", "prefix", "tunnel", "tunnel_port", "vxlan_port", "bridge", "openflow_port",
             "underlay", "redis", "api", "agent", "hosts", "vms"}
    _no_unknown(data, known, "the sandbox")
    name = data.get("name")
    if name is not None:
        name = _name(str(name), "sandbox name")
    prefix = str(data.get("prefix", DEFAULT_PREFIX))
    if not re.fullmatch(r"[a-z][a-z0-9]*-", prefix):
        raise ConfigError(f"prefix {prefix!r} must be letters/digits ending with '-'")
    tunnel = str(data.get("tunnel", "vxlan"))
    if tunnel not in TUNNEL_TYPES:
        raise ConfigError(f"tunnel must be one of {', '.join(TUNNEL_TYPES)}, not {tunnel!r}")
    underlay = data.get("underlay") or {}
    _no_unknown(underlay, {"cidr", "mtu"}, "underlay")
    try:
        cidr = ipaddress.IPv4Network(str(underlay.get("cidr", DEFAULT_UNDERLAY)))
    except ValueError as exc:
        raise ConfigError(f"underlay cidr: {exc}") from None
    hosts = _hosts(data.get("hosts"), cidr)
    vms = _vms(data.get("vms") or [], {h.name for h in hosts}, prefix)
    names = [h.name for h in hosts] + [v.name for v in vms]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ConfigError(f"host and VM names must be unique: {', '.join(sorted(dup))}")
    redis = data.get("redis") or {}
    _no_unknown(redis, {"port", "sentinel", "service", "address"}, "redis")
    sentinel = redis.get("sentinel", False)
    if not isinstance(sentinel, bool):
        raise ConfigError("redis sentinel must be true or false")
    service = str(redis.get("service", "sandbox"))
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", service):
        raise ConfigError(f"redis service {service!r}: use letters, digits, '_', '.' and '-'")
    address = _store_address(redis.get("address"), cidr, hosts) if sentinel else None
    api, api_port = _api(data.get("api", True))
    middle = f"{name}-" if name else ""
    if sentinel and len(f"{prefix}{middle}st") > IFNAMSIZ:
        raise ConfigError(f"prefix and name too long for the store's interface "
                          f"{prefix}{middle}st (max {IFNAMSIZ} characters)")
    return SandboxSpec(
        hosts=hosts, vms=vms, name=name, prefix=prefix, tunnel=tunnel,
        tunnel_port=bool(data.get("tunnel_port", True)),
        vxlan_port=_port(data.get("vxlan_port", VXLAN_UDP_PORT), "vxlan_port"),
        bridge=_ifname(str(data.get("bridge", "br-int")), "bridge"),
        openflow_port=_port(data.get("openflow_port", DEFAULT_OPENFLOW_PORT), "openflow_port"),
        underlay_mtu=_int(underlay.get("mtu", DEFAULT_UNDERLAY_MTU), "underlay mtu", 1280, 65000),
        redis_port=_port(redis.get("port", 0), "redis port", zero=True),
        redis_sentinel=sentinel, redis_service=service, store_address=address,
        api=api, api_port=api_port, agent=_agent(data.get("agent")), raw=dict(data),
    )


def _hosts(items: Any, cidr: ipaddress.IPv4Network) -> tuple[HostSpec, ...]:
    if not isinstance(items, list) or not items:
        raise ConfigError("hosts: a non-empty list is required")
    taken = {str(item.get("underlay_ip", "")).split("/")[0] for item in items
             if isinstance(item, dict)}
    free = (ip for ip in cidr.hosts() if str(ip) not in taken)
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ConfigError("each host must be a mapping")
        _no_unknown(item, {"name", "underlay_ip", "host_id"}, "host")
        name = _name(str(item.get("name", "")), "host name")
        if len(name) > IFNAMSIZ - 3:
            raise ConfigError(f"host name {name!r} is longer than {IFNAMSIZ - 3} characters")
        if "underlay_ip" in item:
            try:
                ip = ipaddress.IPv4Address(str(item["underlay_ip"]).split("/")[0])
            except ValueError as exc:
                raise ConfigError(f"host {name}: underlay_ip: {exc}") from None
            if ip not in cidr:
                raise ConfigError(f"host {name}: underlay_ip {ip} is outside {cidr}")
        else:
            ip = next(free, None)
            if ip is None:
                raise ConfigError(f"underlay {cidr} has no address left for host {name}")
        host_id = item.get("host_id")
        out.append(HostSpec(name, ipaddress.IPv4Interface(f"{ip}/{cidr.prefixlen}"),
                            str(host_id) if host_id else None))
    ips = [h.underlay_ip for h in out]
    if len(set(ips)) != len(ips):
        raise ConfigError("hosts must have distinct underlay addresses")
    return tuple(out)


def _store_address(value: Any, cidr: ipaddress.IPv4Network,
                   hosts: tuple[HostSpec, ...]) -> ipaddress.IPv4Interface:
    taken = {h.underlay_ip.ip for h in hosts}
    if value is None:
        free = [ip for ip in cidr.hosts() if ip not in taken]
        if not free:
            raise ConfigError(f"underlay {cidr} has no address left for the store")
        return ipaddress.IPv4Interface(f"{free[-1]}/{cidr.prefixlen}")
    try:
        ip = ipaddress.IPv4Address(str(value).split("/")[0])
    except ValueError as exc:
        raise ConfigError(f"redis address: {exc}") from None
    if ip not in cidr or ip in (cidr.network_address, cidr.broadcast_address):
        raise ConfigError(f"redis address {ip} is not a host address of the underlay {cidr}")
    if ip in taken:
        raise ConfigError(f"redis address {ip} is the underlay address of a host")
    return ipaddress.IPv4Interface(f"{ip}/{cidr.prefixlen}")


def _vms(items: Any, hosts: set[str], prefix: str) -> tuple[VmSpec, ...]:
    if not isinstance(items, list):
        raise ConfigError("vms must be a list")
    out = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ConfigError("each VM must be a mapping")
        _no_unknown(item, {"name", "host", "interface", "mac", "ip", "gateway", "mtu"}, "vm")
        name = _name(str(item.get("name", "")), "VM name")
        host = str(item.get("host", ""))
        if host not in hosts:
            raise ConfigError(f"vm {name}: unknown host {host!r}")
        iface = _ifname(str(item.get("interface", f"{prefix}{name}-tap")), f"vm {name} interface")
        mac = str(item.get("mac", f"02:00:00:00:{index >> 8:02x}:{index & 0xff:02x}")).lower()
        if not _MAC.match(mac) or int(mac[:2], 16) & 1:
            raise ConfigError(f"vm {name}: {mac!r} is not a unicast MAC address")
        try:
            ip = ipaddress.IPv4Interface(str(item["ip"]))
            gateway = ipaddress.IPv4Address(str(item["gateway"])) if item.get("gateway") else None
        except KeyError:
            raise ConfigError(f"vm {name}: ip (address/prefix) is required") from None
        except ValueError as exc:
            raise ConfigError(f"vm {name}: {exc}") from None
        if "/" not in str(item["ip"]):
            raise ConfigError(f"vm {name}: ip needs a prefix length, e.g. 10.0.0.11/24")
        out.append(VmSpec(name, host, iface, mac, ip, gateway,
                          _int(item.get("mtu", 1500), f"vm {name} mtu", 576, 9000)))
    ifaces = [(v.host, v.interface) for v in out]
    if len(set(ifaces)) != len(ifaces):
        raise ConfigError("VM interfaces on one host must have distinct names")
    return tuple(out)


def _api(value: Any) -> tuple[bool, int]:
    if isinstance(value, bool):
        return value, 0
    if value is None or value == "none":
        return False, 0
    if isinstance(value, dict):
        _no_unknown(value, {"enabled", "port"}, "api")
        return bool(value.get("enabled", True)), _port(value.get("port", 0), "api port", zero=True)
    raise ConfigError("api must be true, false or a mapping with a port")


def _agent(value: Any) -> AgentSpec | None:
    if value is None or value is False or value == "none":
        return None
    if value == "default" or value is True:
        return AgentSpec(DEFAULT_AGENT)
    if isinstance(value, str):
        return AgentSpec(value)
    if isinstance(value, dict):
        _no_unknown(value, {"command", "connect_timeout"}, "agent")
        command = value.get("command", "default")
        return AgentSpec(DEFAULT_AGENT if command == "default" else str(command),
                         float(value.get("connect_timeout", 30.0)))
    raise ConfigError("agent must be none, default, a command template or a mapping")


def _no_unknown(data: Any, known: set[str], what: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must be a mapping")
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{what}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")


def _name(value: str, what: str) -> str:
    if not _NAME.match(value) or value in RESERVED_NAMES:
        raise ConfigError(f"{what} {value!r}: use lower-case letters, digits and '_'")
    return value


def _ifname(value: str, what: str) -> str:
    if not value or len(value) > IFNAMSIZ or "/" in value or value.strip() != value:
        raise ConfigError(f"{what} {value!r} is not a valid interface name (max {IFNAMSIZ})")
    return value


def _int(value: Any, what: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a number") from None
    if not low <= number <= high:
        raise ConfigError(f"{what} must be between {low} and {high}")
    return number


def _port(value: Any, what: str, zero: bool = False) -> int:
    return _int(value, what, 0 if zero else 1, 65535)
