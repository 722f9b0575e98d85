"""Network namespaces and the links between them, through iproute2."""

from __future__ import annotations

import ipaddress
import json

from ryu_midonet.sandbox.shell import CommandError, output, run


def list_netns(prefix: str = "") -> list[str]:
    """Names of the named network namespaces that start with ``prefix``."""
    names = []
    for line in output(["ip", "netns", "list"]).splitlines():
        name = line.split()[0] if line.strip() else ""
        if name and name.startswith(prefix):
            names.append(name)
    return names


def exists(name: str) -> bool:
    return name in list_netns(name)


def add(name: str) -> None:
    """A new namespace with its loopback up and IPv6 off (no autoconfiguration chatter)."""
    run(["ip", "netns", "add", name])
    run(["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
         "net.ipv6.conf.default.disable_ipv6=1"], netns=name)
    run(["ip", "link", "set", "lo", "up"], netns=name)


def delete(name: str) -> None:
    """Remove a namespace; nothing happens when it is already gone."""
    if exists(name):
        run(["ip", "netns", "delete", name])


def pids(name: str) -> list[int]:
    """PIDs of the processes running inside a namespace."""
    proc = run(["ip", "netns", "pids", name], check=False)
    return [int(word) for word in proc.stdout.split() if word.isdigit()]


def add_veth(name: str, netns: str, peer: str, peer_netns: str, mtu: int = 1500) -> None:
    """A veth pair created straight inside two namespaces (no name clash in the root one)."""
    run(["ip", "link", "add", name, "netns", netns, "mtu", str(mtu), "type", "veth",
         "peer", "name", peer, "netns", peer_netns, "mtu", str(mtu)])


def set_up(netns: str | None, dev: str, *, mtu: int | None = None, mac: str | None = None,
           master: str | None = None) -> None:
    """Bring a link up, optionally setting its MTU, MAC address or bridge first."""
    argv = ["ip", "link", "set", dev]
    if mtu:
        argv += ["mtu", str(mtu)]
    if mac:
        argv += ["address", mac]
    if master:
        argv += ["master", master]
    run([*argv, "up"], netns=netns)


def add_bridge(netns: str, name: str, mtu: int) -> None:
    """A Linux bridge that forwards at once (no STP, no forwarding delay)."""
    run(["ip", "link", "add", name, "mtu", str(mtu), "type", "bridge", "stp_state", "0",
         "forward_delay", "0"], netns=netns)
    set_up(netns, name)


def add_address(netns: str, dev: str, cidr: str) -> None:
    run(["ip", "addr", "add", cidr, "dev", dev], netns=netns)


def add_default_route(netns: str, gateway: str) -> None:
    run(["ip", "route", "add", "default", "via", gateway], netns=netns)


def tx_checksum_off(netns: str | None, dev: str) -> None:
    """Compute checksums in software: a userspace switch forwards veth frames as they are,
    so a partial (offloaded) TCP/UDP checksum would reach the receiver unfinished."""
    run(["ethtool", "-K", dev, "tx", "off"], netns=netns)


def links(netns: str | None = None, prefix: str = "") -> list[str]:
    """Names of the links in a namespace (the root one by default) starting with ``prefix``."""
    proc = run(["ip", "-j", "link", "show"], netns=netns)
    return [link["ifname"] for link in json.loads(proc.stdout or "[]")
            if link.get("ifname", "").startswith(prefix)]


def delete_link(dev: str, netns: str | None = None) -> None:
    """Remove a link (and its veth peer); nothing happens when it is already gone."""
    try:
        run(["ip", "link", "delete", dev], netns=netns)
    except CommandError as exc:
        if "Cannot find device" not in exc.stderr:
            raise


def addresses(netns: str | None = None) -> list[tuple[str, ipaddress.IPv4Interface]]:
    """``(device, address/prefix)`` of every IPv4 address in a namespace (the root one by
    default)."""
    proc = run(["ip", "-j", "-4", "addr", "show"], netns=netns)
    return [(link["ifname"], ipaddress.IPv4Interface(f"{a['local']}/{a['prefixlen']}"))
            for link in json.loads(proc.stdout or "[]") for a in link.get("addr_info", [])
            if a.get("family") == "inet"]
