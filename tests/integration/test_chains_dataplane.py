"""Rule chains, NAT and connection tracking with real traffic through real Open vSwitch.

The Operations Guide's examples of chapters 7 (rule chains), 8 (NAT) and 12 (fragments) are
typed into ``midonet-cli`` as the guide gives them, against the REST API of a two-host sandbox
(see :mod:`chainlab`), and VMs then check with ping, TCP and UDP and tcpdump which traffic
passes, how it is translated, and that the state behind it survives what it should. The
topology an example assumes (routers, ports, bindings, the tunnel zone) is built through the
topology store first, so that the guide's aliases (router0, chain5, ...) name what they should.

Where the guide's text could not run as printed:

1. The anti-spoofing chain (chain2) and the security group's ingress chain (chain5) are
   printed as listings only: each listed rule is typed as ``add rule`` with the same
   attributes. The port's OUTBOUND chain and the group's EGRESS rules are not printed at all;
   they follow the Neutron layout (return flows, jump to the group's chain, drop non-ARP).
2. The floating-IP post-routing chain lists ``out-ports router1:port0``, a port of another
   router than the one whose chain it is (its rules could never match): ``router0:port0``,
   the tenant router's gateway port, as in its pre-routing chain.
3. The dnat-test chain is run as printed; its DNAT to a single address is static NAT, so the
   replies keep their source until a static SNAT rule for them is added (as the floating-IP
   chains have), and its REV_SNAT needs a SNAT to reverse: a masquerade chain is added.
4. The SNAT lab runs on its host os004, here a namespace: its ``ip`` lines run there (``ip
   netns`` ones machine-wide); its midonet-cli lines are those of ``test_cli_guide.py``.
5. Chapter 12's ``... pos 2 header type drop`` line has a stray word and is not run (the CLI
   test checks the error); Example 2 does not say how chain18 was created.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from chainlab import MISS_COOKIE, Background, Lab, start
from cli_guide_helpers import SNAT_CHAIN, SNAT_LAB

from ryu_midonet.datapath import pipeline
from tests.support.waiting import wait_until

TENANT = "10a83af63f9342118433c3a43a329528"
# the flows agents build for traffic: from simulations, and those steering NAT replies
TRAFFIC_COOKIE = (rf"cookie=0x[{pipeline.COOKIE_SIMULATED}{pipeline.COOKIE_NAT_STEER}]"
                  r"[0-9a-f]{14},")
TRAFFIC_TABLES = (pipeline.TABLE_FLOWS, pipeline.TABLE_TUNNEL_DELIVERY,
                  pipeline.TABLE_NAT_RETURN, pipeline.TABLE_CT_LOOKUP,
                  pipeline.TABLE_NAT_TUNNEL_IN)


@pytest.fixture(scope="module")
def lab_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from start(tmp_path_factory.mktemp("chains"))


@pytest.fixture
def lab(lab_module: Lab) -> Iterator[Lab]:
    lab_module.wipe()
    lab_module.openflow_errors()
    yield lab_module
    lab_module.wipe()
    assert lab_module.openflow_errors() == []  # every flow the agents sent was accepted


# -- chapter 7: rule conditions -----------------------------------------------------------------

def _condition_router(lab: Lab) -> None:
    """router0 of the guide's tenant, between 10.0.5.0/24 (n5), 10.0.1.0/24 (n1, also in
    10.0.0.0/16) and 203.0.113.0/24 (o, outside 10.0.0.0/16)."""
    router = lab.router("tenant-router", TENANT)
    lab.router_port(router, "10.0.5.1/24", "n5")
    lab.router_port(router, "10.0.1.1/24", "n1")
    lab.router_port(router, "203.0.113.1/24", "o")
    for vm, ip in (("n5", "10.0.1.5"), ("n1", "203.0.113.10"), ("o", "10.0.5.5")):
        assert lab.pings(vm, ip), lab.report()


def test_example_condition_1_as_a_router_infilter(lab: Lab) -> None:
    """DROP IPv4 not from 10.0.0.0/16; ACCEPT to 10.0.5.0/24; no final drop (the guide's note:
    without it, the end of the chain accepts the rest)."""
    _condition_router(lab)
    lab.chains(5, TENANT)
    outputs, err, rc = lab.cli.session([
        f"sett {TENANT}",
        'chain create name "drop_not_src_mynetwork_INBOUND"',
        "chain chain5 add rule ethertype 2048 src !10.0.0.0/16 type drop",
        "chain chain5 add rule ethertype 2048 dst 10.0.5.0/24 pos 2 type accept",
        "chain chain5 list rule",
        "router router0 set infilter chain5",
        "list router",
    ])
    assert (err, rc) == ("", 0)
    assert outputs[1] == ["chain5"]
    assert outputs[4] == [
        "rule rule0 ethertype 2048 src !10.0.0.0/16 proto 0 tos 0 pos 1 type drop",
        "rule rule1 ethertype 2048 dst 10.0.5.0/24 proto 0 tos 0 pos 2 type accept",
    ]
    assert outputs[6] == ["router router0 name tenant-router state up infilter chain5"]
    server = lab.server("n5", 7000)
    # from outside 10.0.0.0/16: dropped, whatever the destination
    assert wait_until(lambda: lab.no_reply("o", "10.0.5.5"))
    assert not lab.connects("o", "10.0.5.5", 7000)
    assert lab.no_reply("o", "10.0.1.5")
    # from inside to 10.0.5.0/24: accepted both ways
    assert lab.pings("n1", "10.0.5.5")
    assert lab.connects("n1", "10.0.5.5", 7000)
    assert [line.split()[0] for line in server.lines()[1:]] == ["10.0.1.5"]
    # from 10.0.5.0/24 to the outside: the request passes (end of chain), the reply does not
    with lab.sniff("o", "icmp") as cap:
        assert lab.no_reply("n5", "203.0.113.10")
    assert any("10.0.5.5 > 203.0.113.10: ICMP echo request" in line for line in cap.lines)


def test_example_condition_2_as_a_router_infilter(lab: Lab) -> None:
    """ACCEPT from 10.0.0.0/16 OR to 10.0.5.0/24, DROP all other IPv4."""
    _condition_router(lab)
    lab.chains(11, TENANT)
    outputs, err, rc = lab.cli.session([
        f"sett {TENANT}",
        'chain create name "accept_src_dst_mynetwork_INBOUND"',
        "chain chain11 add rule ethertype 2048 src 10.0.0.0/16 type accept",
        "chain chain11 add rule ethertype 2048 dst 10.0.5.0/24 type accept",
        "chain chain11 add rule ethertype 2048 pos 3 type drop",
        "chain chain11 list rule",
        "router router0 set infilter chain11",
    ])
    assert (err, rc) == ("", 0)
    assert outputs[1:5] == [["chain11"], ["chain11:rule0"], ["chain11:rule1"], ["chain11:rule2"]]
    server = lab.server("n5", 7000)
    lab.server("n1", 7000)
    # to 10.0.5.0/24 from anywhere, and the replies (from 10.0.0.0/16)
    assert lab.pings("o", "10.0.5.5")
    assert lab.connects("o", "10.0.5.5", 7000)
    assert lab.connects("n1", "10.0.5.5", 7000)
    assert sorted(line.split()[0] for line in server.lines()[1:]) == ["10.0.1.5", "203.0.113.10"]
    # from outside to elsewhere in 10.0.0.0/16: dropped
    assert lab.no_reply("o", "10.0.1.5")
    assert not lab.connects("o", "10.0.1.5", 7000)
    # from 10.0.1.5 to the outside: the request passes, the reply is dropped
    with lab.sniff("o", "icmp") as cap:
        assert lab.no_reply("n1", "203.0.113.10")
    assert any("10.0.1.5 > 203.0.113.10: ICMP echo request" in line for line in cap.lines)


# The chains of one Neutron port and its security group, in the guide's alias order (chain2 is
# the port's INBOUND chain, chain3 its OUTBOUND chain, chain4/chain5 the group's EGRESS/INGRESS).
SG_CHAINS = [
    "OS_PRE_ROUTING_5a151b0b-dea7-4918-bd17-876c1f7f5c64",
    "OS_POST_ROUTING_5a151b0b-dea7-4918-bd17-876c1f7f5c64",
    "OS_PORT_6f72342b-4947-432f-8d01-0cf4e4b8d049_INBOUND",
    "OS_PORT_6f72342b-4947-432f-8d01-0cf4e4b8d049_OUTBOUND",
    "OS_SG_050593ed-56ad-44ef-8489-4052d02d99ff_EGRESS",
    "OS_SG_050593ed-56ad-44ef-8489-4052d02d99ff_INGRESS",
]
# The guide's listing of chain2 (traffic from the VM), as add-rule commands.
ANTI_SPOOFING = [
    "chain chain2 add rule ethertype 2048 src !172.16.3.3 pos 1 type drop",
    "chain chain2 add rule hw-src !fa:16:3e:fb:19:07 pos 2 type drop",
    "chain chain2 add rule flow return-flow pos 3 type accept",
    "chain chain2 add rule pos 4 type jump jump-to chain4",
    "chain chain2 add rule ethertype !2054 pos 5 type drop",
]
# The guide's listing of chain5, the security group's ingress rules.
SG_INGRESS = [
    "chain chain5 add rule ethertype 2048 src 0.0.0.0/0 proto 6 dst-port 5900 pos 1 type accept",
    "chain chain5 add rule ethertype 2048 src 0.0.0.0/0 proto 1 pos 2 type accept",
    "chain chain5 add rule ethertype 2048 src 0.0.0.0/0 proto 6 dst-port 22 pos 3 type accept",
    "chain chain5 add rule ethertype 2048 src 0.0.0.0/0 proto 6 dst-port 80 pos 4 type accept",
]
# Not listed in the guide: the group's egress rule (any IPv4 out) and the port's OUTBOUND chain
# (traffic to the VM) as Neutron lays it out: return flows, the group's ingress rules, no IPv4.
SG_REST = [
    "chain chain4 add rule ethertype 2048 dst 0.0.0.0/0 pos 1 type accept",
    "chain chain3 add rule flow return-flow pos 1 type accept",
    "chain chain3 add rule pos 2 type jump jump-to chain5",
    "chain chain3 add rule ethertype !2054 pos 3 type drop",
]
FORGED_IP = "172.16.3.99"
FORGED_MAC = "02:00:00:00:0c:66"


def test_anti_spoofing_port_chain_and_security_group(lab: Lab) -> None:
    private = lab.bridge("private")
    lab.plug(private, "a")  # bridge0:port0
    lab.plug(private, "b")
    for name in SG_CHAINS:
        lab.build.chain(name)
    a = lab.sb.vm("a")
    a.exec(["ip", "addr", "add", f"{FORGED_IP}/24", "dev", "eth0"])
    try:
        # without the chains, the forged source address gets its replies
        assert lab.pings("a", "172.16.3.4"), lab.report()
        assert lab.pings("a", "172.16.3.4", "-I", FORGED_IP)
        for command in ANTI_SPOOFING + SG_INGRESS + SG_REST:
            assert len(lab.cli.ok(command)) == 1, command
        assert lab.cli.ok("chain chain2 list rule") == [
            "rule rule0 ethertype 2048 src !172.16.3.3 proto 0 tos 0 pos 1 type drop",
            "rule rule1 hw-src !fa:16:3e:fb:19:07 proto 0 tos 0 pos 2 type drop",
            "rule rule2 proto 0 tos 0 flow return-flow pos 3 type accept",
            "rule rule3 proto 0 tos 0 pos 4 type jump jump-to chain4",
            "rule rule4 ethertype !2054 proto 0 tos 0 pos 5 type drop",
        ]
        assert lab.cli.ok("chain chain5 list rule") == [
            "rule rule0 ethertype 2048 src 0.0.0.0/0 proto 6 tos 0 dst-port 5900 pos 1 "
            "type accept",
            "rule rule1 ethertype 2048 src 0.0.0.0/0 proto 1 tos 0 pos 2 type accept",
            "rule rule2 ethertype 2048 src 0.0.0.0/0 proto 6 tos 0 dst-port 22 pos 3 type accept",
            "rule rule3 ethertype 2048 src 0.0.0.0/0 proto 6 tos 0 dst-port 80 pos 4 type accept",
        ]
        lab.cli_ok("bridge bridge0 port port0 set infilter chain2",
                   "bridge bridge0 port port0 set outfilter chain3")
        assert lab.cli.ok("bridge bridge0 port list")[0] == (
            "port port0 device bridge0 state up infilter chain2 outfilter chain3")
        lab.server("a", 22)
        lab.server("a", 7000)
        lab.server("b", 7000)
        # the VM's own traffic, and the replies to it (return flows)
        assert wait_until(lambda: lab.no_reply("a", "172.16.3.4", "-I", FORGED_IP))
        assert lab.pings("a", "172.16.3.4")
        assert lab.connects("a", "172.16.3.4", 7000), lab.report()
        assert lab.pings("a", "172.16.3.4", "-s", "3000")
        # new connections to the VM: what the security group lets in
        assert lab.pings("b", "172.16.3.3")
        assert lab.pings("b", "172.16.3.3", "-s", "3000")
        assert lab.connects("b", "172.16.3.3", 22)
        assert not lab.connects("b", "172.16.3.3", 7000)
        # a forged source address: its packets are dropped on the way in
        with lab.sniff("b", f"host {FORGED_IP} and icmp") as cap:
            assert lab.no_reply("a", "172.16.3.4", "-I", FORGED_IP)
        assert cap.lines == []
        # ARP passes: with the neighbour caches emptied, both sides resolve each other again
        for vm in ("a", "b"):
            lab.exec(vm, ["ip", "neigh", "flush", "all"])
        assert lab.pings("a", "172.16.3.4")
        assert lab.pings("b", "172.16.3.3")
        # a forged MAC: nothing from it gets through, not even ARP
        a.exec(["ip", "link", "set", "dev", "eth0", "address", FORGED_MAC], check=True)
        lab.exec("b", ["ip", "neigh", "flush", "all"])
        with lab.sniff("b", f"ether src {FORGED_MAC}") as cap:
            assert lab.no_reply("a", "172.16.3.4")
            assert not lab.connects("a", "172.16.3.4", 7000)
        assert cap.lines == []
    finally:
        a.exec(["ip", "link", "set", "dev", "eth0", "address", a.mac])
        a.exec(["ip", "addr", "del", f"{FORGED_IP}/24", "dev", "eth0"])
    assert lab.pings("a", "172.16.3.4")


# -- chapter 8: NAT -------------------------------------------------------------------------------

def _tenant_and_edge(lab: Lab) -> tuple[dict, dict, dict]:
    """router0 "tenant-router": port0 198.51.100.2/24 (its gateway port, linked to the edge
    router), port1 172.16.3.1/24 on the private bridge of a and b, default route via the edge;
    router1 "edge": port0 198.51.100.1/24, port1 203.0.113.1/24 bound to o. Returns the tenant
    router, its gateway port and the edge router."""
    tenant = lab.router("tenant-router")
    gateway = lab.router_port(tenant, "198.51.100.2/24")
    private = lab.bridge("private")
    lab.plug(private, "a")
    lab.plug(private, "b")
    lab.attach(tenant, "172.16.3.1/24", private)
    edge = lab.router("edge")
    lab.topo.link(gateway["id"], lab.router_port(edge, "198.51.100.1/24")["id"])
    lab.router_port(edge, "203.0.113.1/24", "o")
    lab.route(tenant, "0.0.0.0/0", gateway, gw="198.51.100.1")
    return tenant, gateway, edge


def _peers(server: Background) -> list[str]:
    """The addresses the echo server saw connections from, in order."""
    return [line.split()[0] for line in server.lines()[1:]]


def test_floating_ip_chains_on_a_tenant_router(lab: Lab) -> None:
    """chain0 (pre-routing): DNAT of the floating IP 198.51.100.3 to 172.16.3.3, REV_SNAT of
    the gateway address; chain1 (post-routing): SNAT of 172.16.3.3 to its floating IP, then
    the default SNAT of everything else to the gateway address, ports 1-65535."""
    _tenant_and_edge(lab)
    # The guide lists "out-ports router1:port0" in chain1, a port of another router than the
    # one whose post-routing chain it is, where the rules could never match: the tenant
    # router's own gateway port (router0:port0, as in chain0) is meant.
    outputs = lab.cli_ok(
        "chain create name OS_PRE_ROUTING_tenant-router",
        "chain create name OS_POST_ROUTING_tenant-router",
        "chain chain0 add rule dst 198.51.100.3 in-ports router0:port0 pos 1 type dnat "
        "action accept target 172.16.3.3",
        "chain chain0 add rule dst 198.51.100.2 in-ports router0:port0 pos 2 type rev_snat "
        "action accept",
        "chain chain1 add rule src 172.16.3.3 out-ports router0:port0 pos 1 type snat "
        "action accept target 198.51.100.3",
        "chain chain1 add rule out-ports router0:port0 pos 2 type snat action accept "
        "target 198.51.100.2:1--1",
        "router router0 set infilter chain0",
        "router router0 set outfilter chain1",
        "list router",
        "chain chain0 list rule",
        "chain chain1 list rule",
    )
    assert outputs[8] == ["router router0 name tenant-router state up infilter chain0 "
                          "outfilter chain1", "router router1 name edge state up"]
    assert outputs[9] == [
        "rule rule0 dst 198.51.100.3 proto 0 tos 0 in-ports router0:port0 pos 1 type dnat "
        "action accept target 172.16.3.3",
        "rule rule1 dst 198.51.100.2 proto 0 tos 0 in-ports router0:port0 pos 2 type rev_snat "
        "action accept",
    ]
    assert outputs[10] == [
        "rule rule0 src 172.16.3.3 proto 0 tos 0 out-ports router0:port0 pos 1 type snat "
        "action accept target 198.51.100.3",
        "rule rule1 proto 0 tos 0 out-ports router0:port0 pos 2 type snat action accept "
        "target 198.51.100.2:1--1",
    ]
    on_a, on_o = lab.server("a", 7000), lab.server("o", 7000)
    # the outside reaches the VM by its floating IP, and the replies come from it
    assert lab.pings("o", "198.51.100.3"), lab.report()
    assert "64 bytes from 198.51.100.3:" in lab.ping("o", "198.51.100.3")
    assert lab.connects("o", "198.51.100.3", 7000)
    assert _peers(on_a) == ["203.0.113.10"]
    # the VM's own connections leave from its floating IP
    assert lab.connects("a", "203.0.113.10", 7000)
    # a VM without floating IP is masqueraded behind the gateway address
    assert lab.connects("b", "203.0.113.10", 7000), lab.report()
    assert _peers(on_o) == ["198.51.100.3", "198.51.100.2"]
    with lab.sniff("o", "icmp") as cap:
        assert lab.pings("a", "203.0.113.10")
        assert lab.pings("b", "203.0.113.10")
    assert any("198.51.100.3 > 203.0.113.10: ICMP echo request" in line for line in cap.lines)
    assert any("198.51.100.2 > 203.0.113.10: ICMP echo request" in line for line in cap.lines)
    assert not any("172.16.3." in line for line in cap.lines), cap.lines
    # fragmented datagrams through the floating IP (static NAT applies to every fragment)
    assert lab.pings("o", "198.51.100.3", "-s", "3000")
    # ICMP errors about translated traffic are translated back, the datagram they quote too
    assert lab.refused("a", "203.0.113.10", 9), lab.report()
    assert lab.refused("b", "203.0.113.10", 9), lab.report()
    assert lab.refused("o", "198.51.100.3", 9), lab.report()


def test_dnat_and_rev_snat_chain_as_written(lab: Lab) -> None:
    """chain10 "dnat-test" as the infilter of router0 (the tenant router, masquerading behind
    its gateway address 198.51.100.2) and of router1 (in front of 10.100.1.150): its dnat rule
    translates 198.51.100.4 entering router1:port0, its rev_snat rule restores the masqueraded
    connections entering router0:port0. On a public bridge with the edge router (router2)."""
    tenant = lab.router("tenant-router")
    dnat = lab.router("dnat-router")
    edge = lab.router("edge")
    public, private = lab.bridge("public"), lab.bridge("private")
    gateway = lab.attach(tenant, "198.51.100.2/24", public)
    lab.plug(private, "b")
    lab.attach(tenant, "172.16.3.1/24", private)
    front = lab.attach(dnat, "198.51.100.5/24", public)
    lab.router_port(dnat, "10.100.1.1/24", "s")
    uplink = lab.attach(edge, "198.51.100.1/24", public)
    lab.router_port(edge, "203.0.113.1/24", "o")
    lab.route(tenant, "0.0.0.0/0", gateway, gw="198.51.100.1")
    lab.route(dnat, "0.0.0.0/0", front, gw="198.51.100.1")
    # the NAT address need not be a router port's: the edge routes it to router1
    lab.route(edge, "198.51.100.4/32", uplink, gw="198.51.100.5")
    lab.chains(10)
    outputs = lab.cli_ok(
        'chain create name "dnat-test"',
        "chain chain10 add rule dst 198.51.100.4 in-ports router1:port0 pos 1 type dnat "
        "action accept target 10.100.1.150",
        "chain chain10 add rule dst 198.51.100.2 in-ports router0:port0 pos 2 type rev_snat "
        "action accept",
        "chain chain10 list rule",
        # what the rev_snat rule reverses: router0 masquerades behind its gateway address
        'chain create name "masquerade"',
        "chain chain11 add rule out-ports router0:port0 pos 1 type snat action accept "
        "target 198.51.100.2:1--1",
        "router router0 set infilter chain10",
        "router router1 set infilter chain10",
        "router router0 set outfilter chain11",
    )
    assert outputs[0] == ["chain10"]
    assert outputs[3] == [
        "rule rule0 dst 198.51.100.4 proto 0 tos 0 in-ports router1:port0 pos 1 type dnat "
        "action accept target 10.100.1.150",
        "rule rule1 dst 198.51.100.2 proto 0 tos 0 in-ports router0:port0 pos 2 type rev_snat "
        "action accept",
    ]
    on_s, on_o = lab.server("s", 7000), lab.server("o", 7000)
    # rev_snat: the masqueraded connection's replies find their way back
    assert lab.eventually_connects("b", "203.0.113.10", 7000), lab.report()
    assert lab.pings("b", "203.0.113.10")
    assert _peers(on_o) == ["198.51.100.2"]
    # dnat: 198.51.100.4 reaches 10.100.1.150; a single address with no ports is static NAT,
    # so the replies keep their source unless a rule translates them too
    with lab.sniff("s", "tcp port 7000") as at_s, lab.sniff("o", "tcp port 7000") as at_o:
        assert not lab.connects("o", "198.51.100.4", 7000)
    assert any("203.0.113.10." in line and "> 10.100.1.150.7000: Flags [S]" in line
               for line in at_s.lines), at_s.lines
    assert any("10.100.1.150.7000 > 203.0.113.10." in line and "Flags [S.]" in line
               for line in at_o.lines), at_o.lines
    lab.cli_ok('chain create name "reverse-dnat"',
               "chain chain12 add rule src 10.100.1.150 out-ports router1:port0 pos 1 type snat "
               "action accept target 198.51.100.4",
               "router router1 set outfilter chain12")
    assert lab.eventually_connects("o", "198.51.100.4", 7000), lab.report()
    assert "203.0.113.10" in _peers(on_s)
    # fragments through the static translations, and then ICMP errors about translated
    # datagrams: translated back, with the datagram they quote
    assert lab.pings("o", "198.51.100.4", "-s", "3000")
    assert lab.refused("s", "203.0.113.10", 9), lab.report()
    assert lab.refused("o", "198.51.100.4", 9), lab.report()


# The lab's first lines, as in the guide. They run on the agent's host: here a namespace, so
# the script's "ip" runs there, except "ip netns" (namespaces are named machine-wide).
SNAT_LAB_HOST = r"""
ip() { if [ "$1" = netns ]; then command ip "$@"; else command ip -n "$HOST_NETNS" "$@"; fi; }
ip link | grep veth0-snat || ip link add veth0-snat type veth peer name veth1-snat
ip link set dev veth0-snat up
ip netns show | grep snat-example || ip netns add snat-example
ip link set veth1-snat netns snat-example
ip netns exec snat-example ip link set dev veth1-snat up
ip netns exec snat-example ip addr add 192.168.11.11/24 dev veth1-snat
ip netns exec snat-example ip route add default via 192.168.11.1
"""


def test_snat_rev_snat_lab_with_its_network_namespace(lab: Lab) -> None:
    """The lab of chapter 8 on host os004: a veth pair into namespace snat-example
    (192.168.11.11) behind the edge router, whose infilter SNATs it to 200.200.200.11; the far
    side (ext, 192.168.7.1, routing 200.200.200.0/24 to the edge) sees it come from there."""
    edge = lab.router("edge")
    lab.router_port(edge, "192.168.7.2/24", "ext")  # the edge's uplink: router0:port0
    lab.exec("ext", ["ip", "route", "replace", "200.200.200.0/24", "via", "192.168.7.2"])
    host_netns = lab.sb.host("os004").netns
    # a name an interrupted earlier run left would pass the lab's "ip netns show | grep" and
    # then fail as an invalid namespace reference
    subprocess.run(["ip", "netns", "delete", "snat-example"], capture_output=True)
    try:
        done = lab.cli.script(f"export HOST_NETNS={host_netns}\n" + SNAT_LAB_HOST + SNAT_LAB)
        # "ip link" asks the kernel for the id of every name in /run/netns; a namespace an
        # agent of another sandbox made in its own mount namespace is a name without a
        # namespace out here, and each such name adds this line (the command still succeeds)
        errors = [line for line in done.stderr.splitlines()
                  if line != "Error: Peer netns reference is invalid."]
        assert (done.returncode, errors) == (0, []), done.stdout + done.stderr

        def ping(ip: str) -> bool:
            done = subprocess.run(["ip", "netns", "exec", "snat-example", "ping", "-n", "-c1",
                                   "-W1", ip], capture_output=True, text=True, timeout=10)
            return done.returncode == 0

        # "Now you should be able to ping the router from inside the network namespace."
        assert wait_until(lambda: ping("192.168.11.1"), timeout=30), lab.report()
        # without the chain, nothing translates the source, and the far side cannot answer
        assert not ping("192.168.7.1")
        done = lab.cli.script(SNAT_CHAIN)
        assert done.stdout.splitlines() == ["chain0:rule0", "chain0:rule1"], done
        with lab.sniff("ext", "icmp") as cap:
            assert wait_until(lambda: ping("192.168.7.1")), lab.report()
        text = "\n".join(cap.lines)
        request = re.search(r"ttl (\d+),[^\n]*\n\s*200\.200\.200\.11 > 192\.168\.7\.1: "
                            r"ICMP echo request", text)
        reply = re.search(r"ttl (\d+),[^\n]*\n\s*192\.168\.7\.1 > 200\.200\.200\.11: "
                          r"ICMP echo reply", text)
        assert request and reply, text
        assert (request.group(1), reply.group(1)) == ("63", "64")  # one router hop
        assert "192.168.11.11" not in text
    finally:
        subprocess.run(["ip", "netns", "delete", "snat-example"], capture_output=True)
        subprocess.run(["ip", "-n", host_netns, "link", "delete", "veth0-snat"],
                       capture_output=True)
        lab.exec("ext", ["ip", "route", "del", "200.200.200.0/24"])


# -- L2 address masking -------------------------------------------------------------------------

def test_l2_masking_on_a_bridge_infilter(lab: Lab) -> None:
    """The l2-mask chain on a bridge's pre-bridging filter: broadcast accepted, multicast (the
    I/G bit) dropped, and sources outside 12:34:56:xx:xx:xx dropped."""
    bridge = lab.bridge("l2")
    lab.plug(bridge, "m1")
    lab.plug(bridge, "m2")
    lab.exec("m1", ["ip", "route", "replace", "224.0.0.0/4", "dev", "eth0"])
    m1 = lab.sb.vm("m1")
    m2 = lab.sb.vm("m2")
    # m1 announces each new MAC (gratuitous ARP), so the bridge's ARP table follows it
    m1.exec(["sysctl", "-qw", "net.ipv4.conf.eth0.arp_notify=1"], check=True)
    try:
        assert lab.pings("m1", "10.20.0.2"), lab.report()
        # without the chain, the multicast and broadcast echo requests reach m2
        with lab.sniff("m2", "icmp", verbose=False) as cap:
            lab.ping("m1", "224.0.0.1", count=2, timeout=0.5)
            lab.ping("m1", "10.20.0.255", "-b", count=2, timeout=0.5)
        assert any("01:00:5e:00:00:01" in line for line in cap.lines), cap.lines
        assert any("ff:ff:ff:ff:ff:ff" in line for line in cap.lines), cap.lines
        outputs = lab.cli_ok(
            'create chain name "l2-mask"',
            "chain chain0 create rule hw-src !12:34:56:78:90:ab hw-src-mask ffff.ff00.0000 "
            "type drop",
            "chain chain0 add rule hw-dst ff:ff:ff:ff:ff:ff type accept",
            "chain chain0 add rule hw-dst 01:00:00:00:00:00 hw-dst-mask 0100.0000.0000 pos 2 "
            "type drop",
            "bridge bridge0 set infilter chain0",
            "bridge list",
        )
        assert outputs[0] == ["chain0"]
        assert outputs[5] == ["bridge bridge0 name l2 state up infilter chain0"]
        for vm in ("m1", "m2"):
            lab.exec(vm, ["ip", "neigh", "flush", "all"])
        # unicast from 12:34:56:... and ARP broadcasts pass
        assert lab.pings("m1", "10.20.0.2")
        assert lab.pings("m2", "10.20.0.1")
        with lab.sniff("m2", "icmp", verbose=False) as cap:
            lab.ping("m1", "224.0.0.1", count=3, timeout=0.5)
            lab.ping("m1", "10.20.0.255", "-b", count=3, timeout=0.5)
        assert not any("01:00:5e:" in line for line in cap.lines), cap.lines
        assert any("ff:ff:ff:ff:ff:ff" in line and "ICMP echo request" in line
                   for line in cap.lines), cap.lines
        # unicast from a source MAC outside 12:34:56 is dropped; its ARP broadcast is not (the
        # broadcast rule comes first): the bridge, which learned m2's address, answers it
        m1.exec(["ip", "link", "set", "dev", "eth0", "address", "12:34:57:00:00:01"], check=True)
        lab.exec("m1", ["ip", "neigh", "flush", "all"])
        with lab.sniff("m2", "ether src 12:34:57:00:00:01", verbose=False) as cap:
            assert lab.no_reply("m1", "10.20.0.2")
        neighbour = m1.exec(["ip", "neigh", "show", "10.20.0.2"], check=True).stdout
        assert m2.mac in neighbour.lower(), neighbour
        assert all("ff:ff:ff:ff:ff:ff, ethertype ARP" in line for line in cap.lines), cap.lines
    finally:
        m1.exec(["ip", "link", "set", "dev", "eth0", "address", m1.mac])
        lab.exec("m1", ["ip", "route", "del", "224.0.0.0/4"])
    lab.exec("m2", ["ip", "neigh", "flush", "all"])
    assert lab.pings("m1", "10.20.0.2")


# -- chapter 12: fragments ----------------------------------------------------------------------

def _fragment_router(lab: Lab) -> None:
    """router2 between the client n1 (router2:port0, 10.0.1.0/24) and the web server n5
    (router2:port1, 10.0.5.0/24), with TCP servers on ports 80 and 72."""
    lab.router("r0")
    lab.router("r1")
    router = lab.router("r2")
    lab.router_port(router, "10.0.1.1/24", "n1")
    lab.router_port(router, "10.0.5.1/24", "n5")
    assert lab.pings("n1", "10.0.5.5"), lab.report()
    # a fragmented echo request to the router leaves the router's flows for whole ones alone
    lab.ping("n1", "10.0.1.1", "-s", "3000", count=2)
    assert lab.pings("n1", "10.0.1.1"), lab.report()
    lab.server("n5", 80)
    lab.server("n5", 72)


def _fragmented_syn(lab: Lab, dport: int, ident: int) -> tuple[set[int], int, bool, int]:
    """n1 sends a 3000-byte TCP SYN to n5:dport in three fragments: the fragment offsets n5
    receives, how many datagrams it reassembled, whether it answered with a SYN-ACK, and how
    many packets reached the agent of n1's host."""
    before, misses = lab.snmp("n5", "Ip", "ReasmOKs"), lab.misses("h2")
    with lab.sniff("n5", "host 10.0.1.5 and ip proto 6") as cap:
        lab.fragments("n1", "10.0.5.5", dport, 3000, ident)
        wait_until(lambda: lab.snmp("n5", "Ip", "ReasmOKs") > before, timeout=2)
    text = "\n".join(cap.lines)
    offsets = {int(off) for off in re.findall(rf"id {ident}, offset (\d+),", text)}
    answered = f"10.0.5.5.{dport} > 10.0.1.5." in text and "Flags [S.]" in text
    return (offsets, lab.snmp("n5", "Ip", "ReasmOKs") - before, answered,
            lab.misses("h2") - misses)


def test_fragment_example_1_drops_the_non_header_fragments(lab: Lab) -> None:
    _fragment_router(lab)
    outputs = lab.cli_ok(
        "create chain name chain0",
        "chain chain0 add rule ethertype 2048 src 0.0.0.0/0 proto 6 in-ports router2:port0 "
        "dst-port 80 pos 1 type accept",
        "chain chain0 add rule ethertype 2048 src 0.0.0.0/0 dst 0.0.0.0/0 in-ports router2:port0 "
        "pos 2 type drop",
        "router router2 set infilter chain0",
    )
    assert outputs[0] == ["chain0"]
    # whole packets: TCP port 80 gets through, anything else does not
    assert lab.eventually_connects("n1", "10.0.5.5", 80)
    assert not lab.connects("n1", "10.0.5.5", 72)
    assert lab.no_reply("n1", "10.0.5.5")
    # a fragmented datagram to port 80: only its header fragment arrives, so it is never
    # reassembled; the same again goes through the flows the first one installed
    assert _fragmented_syn(lab, 80, 4100)[:3] == ({0}, 0, False), lab.report()
    assert _fragmented_syn(lab, 80, 4101) == ({0}, 0, False, 0), lab.report()


def test_fragment_example_2_lets_port_80_through_fragmented(lab: Lab) -> None:
    _fragment_router(lab)
    lab.chains(18)
    outputs = lab.cli_ok(
        "chain create name fragments",
        "chain chain18 add rule ethertype 2048 src 0.0.0.0/0 proto 6 in-ports router2:port0 "
        "dst-port 80 pos 1 type accept",
        "chain chain18 add rule ethertype 2048 src 0.0.0.0/0 in-ports router2:port0 "
        "fragment-policy header pos 2 type drop",
        "chain chain18 add rule ethertype 2048 src 0.0.0.0/0 in-ports router2:port0 "
        "dst 0.0.0.0/0 pos 3 type accept",
        "router router2 set infilter chain18",
    )
    assert outputs[0] == ["chain18"]
    assert lab.eventually_connects("n1", "10.0.5.5", 80)
    assert not lab.connects("n1", "10.0.5.5", 72)
    # to port 80: every fragment, reassembled, answered; to port 72: the header fragment is
    # dropped, the others are let through; the same again through the flows installed, but
    # for the dropped header fragment, which the agent answers (fragmentation needed) each time
    assert _fragmented_syn(lab, 80, 4200)[:3] == ({0, 1480, 2960}, 1, True), lab.report()
    assert _fragmented_syn(lab, 72, 4201)[:3] == ({1480, 2960}, 0, False), lab.report()
    assert _fragmented_syn(lab, 80, 4202) == ({0, 1480, 2960}, 1, True, 0), lab.report()
    assert _fragmented_syn(lab, 72, 4203) == ({1480, 2960}, 0, False, 1), lab.report()


# -- stateful port groups -----------------------------------------------------------------------

X2_TAP = "rm-x2-tap"


@contextmanager
def _asymmetric_uplinks(lab: Lab) -> Iterator[None]:
    """Two gateway routers on the private bridge of b: router0 "gw1" (172.16.3.1, b's default
    gateway) with uplink port0 192.0.2.1/30 to x's eth0 on os004, router1 "gw2" (172.16.3.2)
    with uplink port0 192.0.3.1/30 to x's second interface, on h2. x (192.0.2.2) answers b
    through gw2: forward traffic leaves by one uplink, its return enters by the other."""
    x, h2 = lab.sb.vm("x"), lab.sb.host("h2")
    subprocess.run(["ip", "-n", h2.netns, "link", "add", X2_TAP, "type", "veth", "peer", "name",
                    "eth1", "netns", x.netns], check=True)
    try:
        subprocess.run(["ip", "-n", h2.netns, "link", "set", X2_TAP, "up"], check=True)
        for cmd in (["ethtool", "-K", "eth1", "tx", "off"],
                    ["ip", "link", "set", "eth1", "address", "02:00:00:00:0c:03", "up"],
                    ["ip", "addr", "add", "192.0.3.2/30", "dev", "eth1"],
                    ["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0"],
                    # ARP from eth1's own address: a router answers only its port's network
                    ["sysctl", "-qw", "net.ipv4.conf.all.arp_announce=2"],
                    ["sysctl", "-qw", "net.ipv4.conf.eth0.rp_filter=0"],
                    ["sysctl", "-qw", "net.ipv4.conf.eth1.rp_filter=0"],
                    ["ip", "route", "add", "172.16.3.0/24", "via", "192.0.3.1"],
                    ["ip", "route", "add", "198.51.100.0/24", "via", "192.0.3.1"]):
            x.exec(cmd, check=True)
        gw1, gw2 = lab.router("gw1"), lab.router("gw2")
        uplink1 = lab.router_port(gw1, "192.0.2.1/30", "x")
        uplink2 = lab.router_port(gw2, "192.0.3.1/30")
        lab.topo.bind(h2.host_id, uplink2["id"], X2_TAP)
        inside = lab.bridge("inside")
        lab.plug(inside, "b")
        lab.attach(gw1, "172.16.3.1/24", inside)
        lab.attach(gw2, "172.16.3.2/24", inside)
        lab.route(gw1, "0.0.0.0/0", uplink1, gw="192.0.2.2")
        yield
    finally:
        subprocess.run(["ip", "-n", h2.netns, "link", "del", X2_TAP], capture_output=True)


def _return_path_is_asymmetric(lab: Lab) -> None:
    with lab.sniff("x", "icmp", verbose=False) as cap:
        assert lab.pings("b", "192.0.2.2"), lab.report()
    # the request arrived on eth0 (from gw1's uplink); the reply left by eth1
    requests = [line for line in cap.lines if "echo request" in line]
    assert requests and all("02:00:00:00:0c:02" in line.split(">")[1] for line in requests)
    assert not any("echo reply" in line for line in cap.lines), cap.lines


# Both uplinks accept only return traffic in and track what goes out (chain0 in, chain1 out).
UPLINK_CHAINS = (
    "chain create name uplink-in",
    "chain create name uplink-out",
    "chain chain0 add rule flow return-flow pos 1 type accept",
    "chain chain0 add rule pos 2 type drop",
    "chain chain1 add rule flow fwd-flow pos 1 type accept",
    "router router0 port port0 set infilter chain0",
    "router router0 port port0 set outfilter chain1",
    "router router1 port port0 set infilter chain0",
    "router router1 port port0 set outfilter chain1",
)


def test_asymmetric_return_flows_need_a_stateful_port_group(lab: Lab) -> None:
    """Each uplink accepts only return traffic in and tracks what goes out: the return of a
    connection that left by gw1's uplink enters by gw2's, where it is a stranger until both
    uplinks are members of one stateful port group."""
    with _asymmetric_uplinks(lab):
        _return_path_is_asymmetric(lab)
        outputs = lab.cli_ok(
            *UPLINK_CHAINS,
            "chain chain0 list rule",
        )
        assert outputs[9] == ["rule rule0 proto 0 tos 0 flow return-flow pos 1 type accept",
                              "rule rule1 proto 0 tos 0 pos 2 type drop"]
        lab.server("x", 7000)
        lab.server("b", 7000)
        assert wait_until(lambda: lab.no_reply("b", "192.0.2.2"))
        assert not lab.connects("b", "192.0.2.2", 7000)
        outputs = lab.cli_ok("port-group create name SPG stateful true",
                             "port-group pgroup0 add member port router0:port0",
                             "port-group pgroup0 add member port router1:port0",
                             "port-group pgroup0 list member")
        assert outputs[3] == ["port-group pgroup0 port router0:port0",
                              "port-group pgroup0 port router1:port0"]
        assert lab.eventually_connects("b", "192.0.2.2", 7000), lab.report()
        assert lab.pings("b", "192.0.2.2")
        # new connections from outside are still refused
        assert not lab.connects("x", "172.16.3.4", 7000)
        # members again one by one: without the group the state is not shared any more
        lab.cli_ok("port-group pgroup0 delete member port router1:port0")
        assert wait_until(lambda: not lab.connects("b", "192.0.2.2", 7000, timeout=1.0))


def test_asymmetric_nat_needs_a_stateful_port_group(lab: Lab) -> None:
    """gw1 masquerades b behind 198.51.100.1 on its way out; x routes 198.51.100.0/24 back
    through gw2, whose rev_snat finds the translation only when both uplinks share state.
    Then os004's switch translates each connection, and h2's steers the replies entering by
    gw2's uplink back to os004's tracker: new connections reach no agent."""
    with _asymmetric_uplinks(lab):
        _return_path_is_asymmetric(lab)
        lab.cli_ok(
            "chain create name masquerade",
            "chain create name reverse",
            "chain chain0 add rule out-ports router0:port0 pos 1 type snat action accept "
            "target 198.51.100.1:1--1",
            "chain chain1 add rule dst 198.51.100.1 pos 1 type rev_snat action accept",
            "router router0 set outfilter chain0",
            "router router0 set infilter chain1",
            "router router1 set infilter chain1",
        )
        server = lab.server("x", 7000)
        with lab.sniff("x", "icmp", verbose=False) as cap:
            assert wait_until(lambda: lab.no_reply("b", "192.0.2.2"))
        assert any("198.51.100.1 > 192.0.2.2: ICMP echo request" in line for line in cap.lines)
        assert not lab.connects("b", "192.0.2.2", 7000)
        lab.cli_ok("port-group create name SPG stateful true",
                   "port-group pgroup0 add member port router0:port0",
                   "port-group pgroup0 add member port router1:port0")
        assert lab.eventually_connects("b", "192.0.2.2", 7000), lab.report()
        assert lab.pings("b", "192.0.2.2")
        assert lab.connects("b", "192.0.2.2", 7000)
        before = _misses(lab, NAT_TABLES)
        for _ in range(5):
            assert lab.connects("b", "192.0.2.2", 7000), lab.report()
        assert _misses(lab, NAT_TABLES) == before, lab.report()
        assert set(_peers(server)) == {"198.51.100.1"}
        steering = [f for f in lab.flows("h2", pipeline.TABLE_FLOWS)
                    if f"cookie=0x{pipeline.COOKIE_NAT_STEER}" in f
                    and re.search(r"n_packets=[1-9]", f)]
        assert steering, lab.report()  # the replies entered by gw2's uplink, steered



# Sends 4 MB to each connection, then closes it.
BULK_SERVER = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8)
print("listening", flush=True)
def serve(c):
    with c:
        c.sendall(b"x" * (4 << 20))
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
"""
# Reads what the server sends; exit status 0 when all 4 MB came.
BULK_CLIENT = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
got = 0
while True:
    data = c.recv(65536)
    if not data:
        break
    got += len(data)
sys.exit(0 if got == 4 << 20 else 1)
"""
# One exchange with the echo server, ARGV[3] seconds of silence, another exchange on the
# same connection; prints "ok" when both echoes came back.
IDLE_CLIENT = r"""
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
for n, msg in enumerate((b"before", b"after")):
    time.sleep(float(sys.argv[3]) * n)
    c.sendall(msg)
    if c.recv(64) != msg:
        sys.exit(1)
    print("ok" if n else "idle", flush=True)
"""
IDLE = 35  # seconds: longer than the 30 s of the tracker's opening TCP states


NAT_TABLES = (pipeline.TABLE_FLOWS, pipeline.TABLE_CT_LOOKUP, pipeline.TABLE_NAT_RETURN)


def _misses(lab: Lab, tables: tuple[int, ...] = (pipeline.TABLE_FLOWS,
                                                 pipeline.TABLE_CT_LOOKUP)) -> int:
    """Packets that reached an agent: the counters of the miss flows of ``tables`` (the
    flow cache and the ct-lookup table), on both hosts."""
    total = 0
    for host in ("os004", "h2"):
        for table in tables:
            for line in lab.flows(host, table):
                found = re.search(r"n_packets=(\d+)", line)
                if re.match(MISS_COOKIE, line) and found is not None:
                    total += int(found.group(1))
    return total


def test_a_stateful_group_across_hosts_needs_no_agent_per_connection(lab: Lab) -> None:
    """With the uplinks of gw1 (os004) and gw2 (h2) in one stateful group, os004's tracker
    commits each connection as it leaves and copies its first packet to h2's, where the
    return enters: after the first connection, new ones reach no agent; an established one
    outlives the crash of the agent of h2, and one idle for longer than the trackers' 30 s
    for connections whose handshake they saw part of is still open."""
    with _asymmetric_uplinks(lab):
        lab.cli_ok(
            *UPLINK_CHAINS,
            "port-group create name SPG stateful true",
            "port-group pgroup0 add member port router0:port0",
            "port-group pgroup0 add member port router1:port0",
        )
        server = lab.server("x", 7000)
        assert lab.eventually_connects("b", "192.0.2.2", 7000), lab.report()
        assert lab.connects("b", "192.0.2.2", 7000)
        before = _misses(lab)
        for _ in range(10):
            assert lab.connects("b", "192.0.2.2", 7000), lab.report()
        # an agent per connection would be 10 misses at least; a router refreshing a
        # neighbour's ARP entry meanwhile may send one packet to an agent
        assert _misses(lab) - before <= 1, lab.report()
        assert len(server.lines()) >= 13
        copied = [f for f in lab.flows("os004", pipeline.TABLE_CT_COPY)
                  if re.search(r"n_packets=[1-9]", f)]
        assert copied, lab.report()
        assert not lab.connects("x", "172.16.3.4", 7000)  # from outside: still refused
        idle = lab.background("b", ["python3", "-c", IDLE_CLIENT, "192.0.2.2", "7000",
                                    str(IDLE)])
        assert wait_until(lambda: "idle" in idle.lines(), timeout=10), lab.report()
        # h2's tracker sees only x's side: its agent turned TCP sequence checking off, and
        # a download past the peer windows it never saw arrives whole
        assert "disabled" in lab.sb.host("h2").appctl("dpctl/ct-get-tcp-seq-chk")
        bulk = lab.background("x", ["python3", "-c", BULK_SERVER, "7001"])
        assert wait_until(lambda: "listening" in bulk.lines(), timeout=10)
        assert lab.exec("b", ["python3", "-c", BULK_CLIENT, "192.0.2.2", "7001"],
                        timeout=60).returncode == 0, lab.report()
        stream = lab.stream("b", "192.0.2.2", 7000)
        _survives_agent_restarts(lab, stream, ("h2",))
        assert wait_until(lambda: not idle.alive(), timeout=IDLE + 30)
        assert idle.lines()[-1:] == ["ok"], lab.report()
        assert lab.openflow_errors() == []

# -- state across agent restarts ------------------------------------------------------------------

def _keeps_flowing(stream: Background, more: int = 10) -> bool:
    """The long-lived connection exchanges ``more`` further messages."""
    def count() -> int:
        lines = stream.lines()
        return int(lines[-1]) if lines and lines[-1].isdigit() else 0

    start = count()
    return wait_until(lambda: count() >= start + more, timeout=30)


def _survives_agent_restarts(lab: Lab, stream: Background, hosts: tuple[str, ...]) -> None:
    assert _keeps_flowing(stream), (stream.lines()[-5:], lab.report())
    for host in hosts:
        lab.sb.stop_agent(host, kill=True)
        try:
            # the flows installed before the crash carry the connection meanwhile
            assert _keeps_flowing(stream), lab.report()
        finally:
            restarted = time.monotonic()
            lab.sb.start_agent(host)
        # the new agent starts from an empty flow table: the connection's packets are
        # simulated again and find its state in the switch's connection tracker (or in the
        # shared flow-state table), and flows installed since carry them
        assert _keeps_flowing(stream), lab.report()
        before = _traffic_flows(lab, host)
        assert _keeps_flowing(stream), lab.report()
        after = _traffic_flows(lab, host)
        ages = [age for key, (age, packets) in after.items()
                if packets > before.get(key, (0.0, 0))[1]]
        assert ages and max(ages) <= time.monotonic() - restarted + 1, after
        assert stream.alive(), stream.lines()[-5:]


def _traffic_flows(lab: Lab, host: str) -> dict[str, tuple[float, int]]:
    """``host``'s flows built from simulations or steering NAT replies, whatever their table
    and match: age in seconds and packets, by table, cookie and match."""
    found: dict[str, tuple[float, int]] = {}
    for table in TRAFFIC_TABLES:
        for line in lab.flows(host, table):
            if not re.match(TRAFFIC_COOKIE, line):
                continue
            age = re.search(r"duration=([\d.]+)s", line)
            packets = re.search(r"n_packets=(\d+)", line)
            key = re.sub(r"(duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*,\s*", "", line)
            if age and packets:
                found[key] = (float(age.group(1)), int(packets.group(1)))
    return found


def test_masqueraded_connection_survives_agent_restarts(lab: Lab) -> None:
    """One TCP connection from b, masqueraded by the tenant router behind 198.51.100.2 (dynamic
    SNAT, ports 1-65535), keeps exchanging data while the agent of its ingress host (h2), then
    that of the return traffic's ingress host (os004), is killed and started again."""
    _tenant_and_edge(lab)
    lab.cli_ok(
        "chain create name OS_PRE_ROUTING_tenant-router",
        "chain create name OS_POST_ROUTING_tenant-router",
        "chain chain0 add rule dst 198.51.100.2 in-ports router0:port0 pos 1 type rev_snat "
        "action accept",
        "chain chain1 add rule out-ports router0:port0 pos 1 type snat action accept "
        "target 198.51.100.2:1--1",
        "router router0 set infilter chain0",
        "router router0 set outfilter chain1",
    )
    server = lab.server("o", 7000)
    assert lab.eventually_connects("b", "203.0.113.10", 7000), lab.report()
    stream = lab.stream("b", "203.0.113.10", 7000)
    _survives_agent_restarts(lab, stream, ("h2", "os004"))
    # one connection all along, from the gateway address; a new one gets another port
    assert lab.connects("b", "203.0.113.10", 7000)
    peers = [tuple(line.split()) for line in server.lines()[1:]]
    assert [ip for ip, _ in peers] == ["198.51.100.2"] * 3 and len(set(peers)) == 3, peers


def test_return_flow_only_path_survives_agent_restarts(lab: Lab) -> None:
    """b's port lets in only return traffic of connections b opened (tracked on its way out):
    a connection from b to a keeps working while the agent of the host where a's replies
    enter (os004), then b's own host's agent (h2), is killed and started again."""
    private = lab.bridge("private")
    lab.plug(private, "a")
    lab.plug(private, "b")  # bridge0:port1
    outputs = lab.cli_ok(
        "chain create name from-b",
        "chain create name to-b",
        "chain chain0 add rule flow fwd-flow pos 1 type accept",
        "chain chain1 add rule flow return-flow pos 1 type accept",
        "chain chain1 add rule ethertype !2054 pos 2 type drop",
        "bridge bridge0 port port1 set infilter chain0",
        "bridge bridge0 port port1 set outfilter chain1",
    )
    assert outputs[:2] == [["chain0"], ["chain1"]]
    lab.server("a", 7000)
    lab.server("b", 7000)
    assert lab.eventually_connects("b", "172.16.3.3", 7000), lab.report()
    assert not lab.connects("a", "172.16.3.4", 7000)
    stream = lab.stream("b", "172.16.3.3", 7000)
    _survives_agent_restarts(lab, stream, ("os004", "h2"))
    assert not lab.connects("a", "172.16.3.4", 7000)
