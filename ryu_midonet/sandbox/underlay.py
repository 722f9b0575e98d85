"""The physical network between sandbox hosts, and OVS userspace tunnelling on each host.

The underlay is a Linux bridge ``br-ul`` in a namespace of its own (``<prefix>underlay``), with
one veth to every host: ``ul-<host>`` on the bridge, ``ul0`` inside the host namespace. In
sentinel mode one more veth gives the root namespace an address there (the store's address):
``store0`` on the bridge, ``<prefix>[<name>-]st`` in the root namespace.

With the userspace (netdev) datapath OVS builds tunnel headers itself, so the host's underlay
address must sit on a bridge OVS owns: ``br-phy`` (datapath_type=netdev) holds ``ul0`` as a
port, and the address goes on the ``br-phy`` internal interface. ovs-vswitchd reads the
namespace's routes into its own table (``ovs-appctl ovs/route/show``); the sandbox checks that
the underlay prefix is there (adding it with ``ovs/route/add`` when it is not) and fills the
tunnel neighbour table (``tnl/neigh/set``) with the other hosts' ``br-phy`` MAC addresses, so
the first tunnelled packet does not wait for ARP. ``br-phy`` keeps its default NORMAL flow:
encapsulated packets leave through it, and incoming ones are decapsulated when NORMAL hands
them to its internal port.
"""

from __future__ import annotations

import ipaddress
import time

from ryu_midonet.sandbox import netns
from ryu_midonet.sandbox.ovs import OvsSwitch
from ryu_midonet.sandbox.shell import CommandError, run

UNDERLAY_BRIDGE = "br-ul"
PHY_BRIDGE = "br-phy"
HOST_NIC = "ul0"
STORE_PORT = "store0"


def phy_mac(ip: ipaddress.IPv4Interface | ipaddress.IPv4Address) -> str:
    """The MAC address of a host's ``br-phy``: 02:99 followed by its underlay address."""
    packed = ipaddress.IPv4Address(str(ip).split("/")[0]).packed
    return "02:99:" + ":".join(f"{b:02x}" for b in packed)


def create(ns: str, mtu: int) -> None:
    """The underlay switch, inside namespace ``ns`` (which must not exist yet)."""
    netns.add(ns)
    netns.add_bridge(ns, UNDERLAY_BRIDGE, mtu)


def attach(underlay_ns: str, host: str, host_ns: str, mtu: int) -> None:
    """Cable a host namespace to the underlay switch."""
    port = f"ul-{host}"
    netns.add_veth(port, underlay_ns, HOST_NIC, host_ns, mtu)
    netns.set_up(underlay_ns, port, master=UNDERLAY_BRIDGE)
    netns.set_up(host_ns, HOST_NIC)


def add_store_link(underlay_ns: str, link: str, ip: ipaddress.IPv4Interface, mtu: int) -> None:
    """Give the root namespace ``ip`` on the underlay: a veth ``link`` whose other end
    (``store0``) is a port of the underlay switch. Checksums are computed in software, since
    the hosts receive these frames through their userspace ``br-phy``."""
    if link in netns.links(None, link):
        raise RuntimeError(f"interface {link} already exists in the root namespace "
                           "(another sandbox of this name is up; 'down' or 'clean' it first)")
    for other, cidr in netns.addresses(None):
        if cidr.network.subnet_of(ip.network):
            raise RuntimeError(f"the root namespace already has {cidr} on {other}, in the "
                               f"underlay {ip.network}: give this sandbox another underlay cidr")
    run(["ip", "link", "add", link, "mtu", str(mtu), "type", "veth", "peer", "name",
         STORE_PORT, "netns", underlay_ns, "mtu", str(mtu)])
    netns.set_up(underlay_ns, STORE_PORT, master=UNDERLAY_BRIDGE)
    netns.tx_checksum_off(None, link)
    netns.add_address(None, link, str(ip))
    netns.set_up(None, link)


def restore_phy(switch: OvsSwitch, ip: ipaddress.IPv4Interface, mtu: int,
                peers: list[ipaddress.IPv4Interface], timeout: float = 10.0) -> None:
    """After ovs-vswitchd restarted: its ``br-phy`` device is new, without the address, and
    its tunnel routes and neighbours are gone; put them back."""
    deadline = time.monotonic() + timeout
    while PHY_BRIDGE not in netns.links(switch.netns, PHY_BRIDGE):
        if time.monotonic() > deadline:
            raise RuntimeError(f"ovs-vswitchd in {switch.netns} did not create {PHY_BRIDGE}")
        time.sleep(0.02)
    netns.set_up(switch.netns, PHY_BRIDGE, mtu=mtu)
    if all(cidr != ip for _dev, cidr in netns.addresses(switch.netns)):
        netns.add_address(switch.netns, PHY_BRIDGE, str(ip))
    ensure_route(switch, ip)
    add_neighbours(switch, peers)


def setup_phy(switch: OvsSwitch, ip: ipaddress.IPv4Interface, mtu: int) -> None:
    """``br-phy`` with ``ul0`` and the host's underlay address, ready for userspace tunnels."""
    switch.vsctl(
        "add-br", PHY_BRIDGE, "--", "set", "Bridge", PHY_BRIDGE, "datapath_type=netdev",
        f"other_config:hwaddr={phy_mac(ip)}", "other_config:disable-in-band=true",
        "--", "set", "Interface", PHY_BRIDGE, f"mtu_request={mtu}",
        "--", "add-port", PHY_BRIDGE, HOST_NIC)
    netns.set_up(switch.netns, PHY_BRIDGE, mtu=mtu)
    netns.add_address(switch.netns, PHY_BRIDGE, str(ip))
    ensure_route(switch, ip)


def ensure_route(switch: OvsSwitch, ip: ipaddress.IPv4Interface, wait: float = 1.0) -> None:
    """OVS's tunnel routing table must send the underlay prefix out of ``br-phy``.

    vswitchd learns the new address's route from netlink shortly after it is added; when it
    has not within ``wait`` seconds, the route is added by hand.
    """
    peer = str(next(a for a in ip.network.hosts() if a != ip.ip))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if PHY_BRIDGE in switch.appctl("ovs/route/lookup", peer):
                return
        except CommandError:
            pass  # "Not found" until vswitchd has read the route
        time.sleep(0.02)
    switch.appctl("ovs/route/add", str(ip.network), PHY_BRIDGE)


def add_neighbours(switch: OvsSwitch, peers: list[ipaddress.IPv4Interface]) -> None:
    """Pre-fill OVS's tunnel neighbour table (it would otherwise ARP on the first packet)."""
    for peer in peers:
        switch.appctl("tnl/neigh/set", PHY_BRIDGE, str(peer.ip), phy_mac(peer))
