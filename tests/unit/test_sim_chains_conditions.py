"""Rule conditions: every attribute, its inversion, and the header fields it reads."""

from __future__ import annotations

from typing import Any

import pytest

from ryu_midonet.builders.chains import ip_group, port_group
from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.context import Frame, Where
from ryu_midonet.sim.core.filters import AcceptAll
from ryu_midonet.sim.core.model import IP_ICMP, Packet, Result
from ryu_midonet.sim.core.packets import icmp_error
from ryu_midonet.sim.core.walk import Walk
from ryu_midonet.sim.rules.conditions import fragment_policy, matches
from ryu_midonet.sim.state import State
from tests.support import packets
from tests.support.matchers import assert_dropped, assert_outputs
from tests.support.topology import MemoryTopology

MAC1, MAC2 = "fa:16:3e:fb:19:07", "02:00:00:00:00:02"


@pytest.fixture
def b() -> MemoryTopology:
    b = MemoryTopology()
    br = b.bridge("br")
    for name in ("p1", "p2", "p3"):
        b.bridge_port(br, port_id=name)
    b.chain("c")
    return b


def tcp(**more: Any) -> Packet:
    return packets.tcp(MAC1, MAC2, "172.16.3.3", "10.0.5.7", **more)


def udp(**more: Any) -> Packet:
    return packets.udp(MAC1, MAC2, "172.16.3.3", "10.0.5.7", 5353, 53, **more)


def arp() -> Packet:
    return packets.arp(1, MAC1, "172.16.3.3", "172.16.3.1")


def check(b: MemoryTopology, packet: Packet, in_port: str = "p1", out_port: str | None = None,
          frame: Frame | None = None, **fields: Any) -> tuple[bool, Result]:
    """Whether a rule with ``fields`` matches ``packet`` on bridge br, and what it read."""
    r = b.rule(b.objects["chain"]["c"], fields.pop("type", "accept"), **fields)
    walk = Walk(b.view(), State.in_memory(), AcceptAll(), packet)
    walk.session.ingress = b.objects["port"]["p1"]
    ports = b.objects["port"]
    where = Where(b.objects["bridge"]["br"], ports[in_port],
                  None if out_port is None else ports[out_port])
    held = matches(walk, r, where, frame or Frame(packet))
    return held, walk.result


def holds(b: MemoryTopology, packet: Packet, **fields: Any) -> bool:
    return check(b, packet, **fields)[0]


def test_an_empty_condition_matches_everything_and_reads_nothing(b: MemoryTopology) -> None:
    held, result = check(b, tcp())
    assert held and not result.fields_read and result.cacheable


# -- L2 ----------------------------------------------------------------------------------------

def test_mac_with_masks(b: MemoryTopology) -> None:
    assert holds(b, tcp(), dlSrc=MAC1)
    assert not holds(b, tcp(), dlSrc=MAC2)
    assert holds(b, tcp(), dlSrc=MAC2, invDlSrc=True)
    # only the first 16 bits compared
    assert holds(b, tcp(), dlSrc="fa:16:00:00:00:00", dlSrcMask="ffff.0000.0000")
    assert not holds(b, tcp(), dlSrc="fa:17:00:00:00:00", dlSrcMask="ffff.0000.0000")
    # the I/G bit: multicast destinations
    assert holds(b, tcp(eth_dst="01:00:5e:00:00:01"), dlDst="01:00:00:00:00:00",
                 dlDstMask="0100.0000.0000")
    assert not holds(b, tcp(), dlDst="01:00:00:00:00:00", dlDstMask="0100.0000.0000")


def test_a_zero_mask_matches_anything_without_reading(b: MemoryTopology) -> None:
    held, result = check(b, tcp(), dlSrc=MAC2, dlSrcMask="0000.0000.0000")
    assert held and "eth_src" not in result.fields_read
    held, result = check(b, tcp(), dlDst=MAC2)
    assert held and result.fields_read == {"eth_dst"}


def test_ethertype_decimal_and_signed(b: MemoryTopology) -> None:
    assert holds(b, tcp(), dlType=2048)
    assert not holds(b, arp(), dlType=2048)
    assert holds(b, arp(), dlType=2054)
    assert holds(b, arp(), dlType=2054, invDlType=False)
    assert holds(b, tcp(), dlType=2054, invDlType=True)
    assert holds(b, tcp(eth_type=0x86DD), dlType=-31011)  # IPv6 as a signed 16-bit value


def test_vlan_and_no_vlan(b: MemoryTopology) -> None:
    assert holds(b, tcp(), noVlan=True)
    assert not holds(b, tcp(vlan_vid=10), noVlan=True)
    held, result = check(b, tcp(vlan_vid=10), vlan=10)
    assert held and result.fields_read == {"vlan_vid"}
    assert not holds(b, tcp(vlan_vid=11), vlan=10)
    assert not holds(b, tcp(), vlan=10)


# -- ports, groups, devices --------------------------------------------------------------------

def test_in_and_out_ports(b: MemoryTopology) -> None:
    assert holds(b, tcp(), inPorts=["p1", "p3"])
    assert not holds(b, tcp(), in_port="p2", inPorts=["p1", "p3"])
    assert holds(b, tcp(), in_port="p2", inPorts=["p1"], invInPorts=True)
    assert not holds(b, tcp(), outPorts=["p2"])  # no egress port yet
    assert holds(b, tcp(), out_port="p2", outPorts=["p2"])
    assert holds(b, tcp(), out_port="p3", outPorts=["p2"], invOutPorts=True)
    held, result = check(b, tcp(), inPorts=["p1"], outPorts=["p2"], out_port="p2")
    assert held and not result.fields_read


def test_port_groups_and_their_tags(b: MemoryTopology) -> None:
    port_group(b, "pg-a", ["p1"])
    port_group(b, "pg-b", ["p2"])
    held, result = check(b, tcp(), portGroup="pg-a")  # the port the packet entered by
    assert held and "pg-a" in result.tags
    assert not holds(b, tcp(), in_port="p2", portGroup="pg-b")  # still entered by p1
    assert holds(b, tcp(), in_port="p2", inPortGroup="pg-b")
    assert holds(b, tcp(), inPortGroup="pg-b", invInPortGroup=True)
    assert holds(b, tcp(), out_port="p2", outPortGroup="pg-b")
    assert not holds(b, tcp(), outPortGroup="pg-b")
    held, result = check(b, tcp(), portGroup="pg-missing")
    assert not held and "pg-missing" in result.tags


def test_traversed_device(b: MemoryTopology) -> None:
    frame = Frame(tcp()).hop("br", "p1")
    assert holds(b, tcp(), frame=frame, traversedDevice="br")
    assert not holds(b, tcp(), frame=frame, traversedDevice="other")
    assert holds(b, tcp(), frame=frame, traversedDevice="other", invTraversedDevice=True)


def test_destination_rewritten(b: MemoryTopology) -> None:
    assert not holds(b, tcp(), matchNwDstRewritten=True)
    frame = Frame(tcp(), dnat=True)
    assert holds(b, tcp(), frame=frame, matchNwDstRewritten=True)


# -- L3 ----------------------------------------------------------------------------------------

def test_tos_and_proto(b: MemoryTopology) -> None:
    held, result = check(b, tcp(ip_dscp=10, ip_ecn=1), nwTos=41)
    assert held and result.fields_read == {"eth_type", "ip_dscp", "ip_ecn"}
    assert not holds(b, tcp(), nwTos=41)
    assert holds(b, tcp(), nwTos=41, invNwTos=True)
    assert holds(b, tcp(), nwProto=6)
    assert holds(b, udp(), nwProto=6, invNwProto=True)
    assert not holds(b, arp(), nwProto=6)
    assert holds(b, arp(), nwProto=6, invNwProto=True)


def test_proto_zero_from_clients_means_any(b: MemoryTopology) -> None:
    held, result = check(b, arp(), nwProto=0, nwTos=0)
    assert held and not result.fields_read


def test_cidrs(b: MemoryTopology) -> None:
    assert holds(b, tcp(), nwSrcAddress="172.16.0.0", nwSrcLength=16)
    assert not holds(b, tcp(), nwSrcAddress="10.0.0.0", nwSrcLength=16)
    assert holds(b, tcp(), nwSrcAddress="10.0.0.0", nwSrcLength=16, invNwSrc=True)
    assert holds(b, tcp(), nwDstAddress="10.0.5.0", nwDstLength=24)
    assert holds(b, tcp(), nwDstAddress="10.0.5.7")  # no length: a host
    assert not holds(b, tcp(), nwDstAddress="2001:db8::", nwDstLength=32)
    # ARP offers its sender and target addresses, as MidoNet does
    assert holds(b, arp(), nwSrcAddress="172.16.3.3")
    assert not holds(b, arp(), nwSrcAddress="172.16.3.4")


def test_an_any_prefix_reads_no_address(b: MemoryTopology) -> None:
    held, result = check(b, tcp(), nwSrcAddress="0.0.0.0", nwSrcLength=0)
    assert held and result.fields_read == {"eth_type"}
    assert not holds(b, tcp(eth_type=0x86DD), nwSrcAddress="0.0.0.0", nwSrcLength=0)


def test_ip_address_groups(b: MemoryTopology) -> None:
    ip_group(b, "g", ["172.16.0.3", "10.0.5.7"])
    held, result = check(b, tcp(), ipAddrGroupDst="g")
    assert held and "g" in result.tags and "ipv4_dst" in result.fields_read
    assert not holds(b, tcp(), ipAddrGroupSrc="g")
    assert holds(b, tcp(), ipAddrGroupSrc="g", invIpAddrGroupSrc=True)
    held, result = check(b, tcp(), ipAddrGroupSrc="missing")
    assert not held and "missing" in result.tags


# -- L4 ----------------------------------------------------------------------------------------

def test_port_ranges_on_tcp_and_udp(b: MemoryTopology) -> None:
    held, result = check(b, tcp(), tpDst={"start": 80, "end": 88})
    assert held and result.fields_read == {"eth_type", "ip_proto", "tcp_dst", "ip_frag"}
    assert not holds(b, tcp(), tpDst={"start": 81, "end": 88})
    assert holds(b, tcp(), tpDst={"start": 81, "end": 88}, invTpDst=True)
    assert holds(b, tcp(), tpSrc={"start": 1024, "end": 65535})
    assert holds(b, udp(), tpDst={"start": 53, "end": 53})
    assert not holds(b, udp(), tpSrc={"start": 53, "end": 53})


def test_port_ranges_on_icmp_compare_type_and_code(b: MemoryTopology) -> None:
    ping = tcp(ip_proto=IP_ICMP, tcp_src=None, tcp_dst=None, icmpv4_type=8, icmpv4_code=0)
    held, result = check(b, ping, nwProto=IP_ICMP, tpSrc={"start": 8, "end": 8},
                         tpDst={"start": 0, "end": 0})
    assert held and {"icmpv4_type", "icmpv4_code"} <= result.fields_read
    assert not holds(b, ping, nwProto=IP_ICMP, tpSrc={"start": 0, "end": 0})


def test_port_ranges_never_hold_without_l4_ports(b: MemoryTopology) -> None:
    gre = tcp(ip_proto=47, tcp_src=None, tcp_dst=None)
    assert not holds(b, gre, tpDst={"start": 80, "end": 80})
    assert holds(b, gre, tpDst={"start": 80, "end": 80}, invTpDst=True)
    assert not holds(b, arp(), tpDst={"start": 80, "end": 80})


# -- fragments -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("policy", "accepted"), [
    ("any", {"no", "first", "later"}),
    ("header", {"no", "first"}),
    ("nonheader", {"later"}),
    ("unfragmented", {"no"}),
])
def test_fragment_policies(b: MemoryTopology, policy: str, accepted: set[str]) -> None:
    for frag in ("no", "first", "later"):
        packet = tcp(ip_frag=frag) if frag != "later" else tcp(ip_frag=frag, tcp_src=None,
                                                               tcp_dst=None)
        held, result = check(b, packet, fragmentPolicy=policy)
        assert held == (frag in accepted), (policy, frag)
        assert ("ip_frag" in result.fields_read) == (policy != "any")


def test_fragment_policy_is_not_inverted(b: MemoryTopology) -> None:
    later = tcp(ip_frag="later", tcp_src=None, tcp_dst=None)
    assert not holds(b, later, fragmentPolicy="header", condInvert=True)
    assert holds(b, tcp(), fragmentPolicy="header", nwProto=17, condInvert=True)


def test_fragment_policy_defaults(b: MemoryTopology) -> None:
    c = b.objects["chain"]["c"]
    assert fragment_policy(b.rule(c, "accept")) == "any"
    assert fragment_policy(b.rule(c, "accept", tpDst={"start": 80})) == "header"
    assert fragment_policy(b.rule(c, "snat", natTargets=["1.2.3.4:1-65535"])) == "unfragmented"
    assert fragment_policy(b.rule(c, "snat", natTargets=["1.2.3.4"])) == "any"
    assert fragment_policy({"type": "dnat", "natTargets": [
        {"addressFrom": "1.2.3.4", "addressTo": "1.2.3.5"}]}) == "unfragmented"
    assert fragment_policy({"tpSrc": {"start": 1}}) == "header"  # a rule built by hand


def test_non_ip_packets_are_unfragmented(b: MemoryTopology) -> None:
    held, result = check(b, arp(), fragmentPolicy="unfragmented")
    assert held and result.fields_read == {"eth_type"}
    assert not holds(b, arp(), fragmentPolicy="nonheader")


# -- ICMP data -----------------------------------------------------------------------------------

def test_icmp_data_addresses_are_read_from_the_quote(b: MemoryTopology) -> None:
    error = icmp_error(tcp(), 3, 1, "10.0.5.1", MAC2)
    held, result = check(b, error, icmpDataSrcIpAddress="172.16.3.0", icmpDataSrcIpLength=24)
    assert held and not result.cacheable
    assert holds(b, error, icmpDataDstIpAddress="10.0.5.7")
    assert not holds(b, error, icmpDataDstIpAddress="10.0.5.8")
    assert not holds(b, tcp(), icmpDataDstIpAddress="10.0.5.7")
    assert holds(b, tcp(), icmpDataDstIpAddress="10.0.5.7", invIcmpDataDstIp=True)


# -- through the simulator -----------------------------------------------------------------------

def test_a_bridge_port_chain_reads_become_the_flow_match(b: MemoryTopology) -> None:
    c = b.chain("vm-in")
    b.rule(c, "drop", nwSrcAddress="172.16.3.3", invNwSrc=True, dlType=2048)
    b.rule(c, "accept")
    b.objects["port"]["p1"]["inboundFilterId"] = "vm-in"
    state = State.in_memory()
    state.macs.learn("br", MAC2, None, "p2")
    result = simulate(b.view(), state, "p1", tcp())
    assert_outputs(result, "p2")
    assert result.fields_read == {"eth_type", "ipv4_src", "eth_dst"}
    assert {"vm-in", "vm-in/rule0", "vm-in/rule1"} <= result.tags
    assert_dropped(simulate(b.view(), state, "p1", tcp(ipv4_src="172.16.3.4")))
