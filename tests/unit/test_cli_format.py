"""midonet-cli: how objects print, checked against the Operations Guide's lines (no network)."""

from __future__ import annotations

from typing import Any

import pytest

from ryu_midonet.cli.attrs import default_fragment_policy
from ryu_midonet.cli.formatter import describe
from ryu_midonet.cli.kinds.bridge import BRIDGE
from ryu_midonet.cli.kinds.host import BINDING, HOST, INTERFACE
from ryu_midonet.cli.kinds.ip_addr_group import IP_ADDR
from ryu_midonet.cli.kinds.port import BRIDGE_PORT, ROUTER_PORT
from ryu_midonet.cli.kinds.port_group import PG_MEMBER, PORT_GROUP
from ryu_midonet.cli.kinds.route import ROUTE
from ryu_midonet.cli.kinds.router import ROUTER
from ryu_midonet.cli.kinds.rule import RULE
from ryu_midonet.cli.kinds.system_state import SYSTEM_STATE
from ryu_midonet.cli.kinds.tunnel_zone import TUNNEL_ZONE, TZ_MEMBER


class Names:
    """A RefContext that names objects from a fixed table."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names or {}

    def ref_name(self, kind: str, obj_id: str) -> str:
        return self.names.get(obj_id, obj_id)

    def ref_id(self, kind: str, token: str) -> str:
        for obj_id, name in self.names.items():
            if name == token:
                return obj_id
        raise AssertionError(f"unknown {token}")


NAMES = Names({"p-r0-0": "router0:port0", "p-r1-0": "router1:port0", "p-r2-0": "router2:port0",
               "c4": "chain4", "ipg0": "ip-address-group0", "b1p0": "bridge1:port0",
               "h0": "host0", "tz0": "tzone0", "pg0": "pgroup0", "r1": "router1",
               "c0": "chain0", "c1": "chain1"})


def rule(**kw: Any) -> dict[str, Any]:
    """A rule DTO as the API returns it: every condition field, proto/tos as 0."""
    dto: dict[str, Any] = {
        "type": "accept", "flowAction": None, "natTargets": None, "jumpChainId": None,
        "meterName": None, "condInvert": False, "matchForwardFlow": False,
        "matchReturnFlow": False, "inPorts": [], "invInPorts": False, "outPorts": [],
        "invOutPorts": False, "portGroup": None, "invPortGroup": False, "ipAddrGroupSrc": None,
        "invIpAddrGroupSrc": False, "ipAddrGroupDst": None, "invIpAddrGroupDst": False,
        "noVlan": False, "vlan": None, "dlType": None, "invDlType": False, "dlSrc": None,
        "dlSrcMask": None, "invDlSrc": False, "dlDst": None, "dlDstMask": None,
        "invDlDst": False, "nwTos": 0, "invNwTos": False, "nwProto": 0, "invNwProto": False,
        "nwSrcAddress": None, "nwSrcLength": None, "invNwSrc": False, "nwDstAddress": None,
        "nwDstLength": None, "invNwDst": False, "fragmentPolicy": "any", "tpSrc": None,
        "tpDst": None, "invTpSrc": False, "invTpDst": False, "position": 1}
    dto.update(kw)
    if "fragmentPolicy" not in kw:
        dto["fragmentPolicy"] = default_fragment_policy(dto)
    return dto


@pytest.mark.parametrize("dto, line", [
    (rule(dlType=2048, nwSrcAddress="10.0.0.0", nwSrcLength=16, invNwSrc=True, type="drop"),
     "ethertype 2048 src !10.0.0.0/16 proto 0 tos 0 pos 1 type drop"),
    (rule(dlType=2048, nwSrcAddress="0.0.0.0", nwSrcLength=0, nwProto=6,
          tpDst={"start": 80, "end": 80}, inPorts=["p-r2-0"]),
     "ethertype 2048 src 0.0.0.0/0 proto 6 tos 0 dst-port 80 in-ports router2:port0 pos 1 "
     "type accept"),
    (rule(dlSrc="fa:16:3e:fb:19:07", invDlSrc=True, type="drop", position=2),
     "hw-src !fa:16:3e:fb:19:07 proto 0 tos 0 pos 2 type drop"),
    (rule(matchReturnFlow=True, position=3), "proto 0 tos 0 flow return-flow pos 3 type accept"),
    (rule(type="jump", jumpChainId="c4", position=4),
     "proto 0 tos 0 pos 4 type jump jump-to chain4"),
    (rule(dlType=2054, invDlType=True, type="drop", position=5),
     "ethertype !2054 proto 0 tos 0 pos 5 type drop"),
    (rule(dlType=0x86DD, ipAddrGroupSrc="ipg0", fragmentPolicy="unfragmented", position=2),
     "ethertype -31011 proto 0 tos 0 ip-address-group-src ip-address-group0 "
     "fragment-policy unfragmented pos 2 type accept"),
    (rule(nwDstAddress="198.51.100.3", nwDstLength=32, inPorts=["p-r0-0"], type="dnat",
          flowAction="accept", natTargets=[{"addressFrom": "172.16.3.3",
                                            "addressTo": "172.16.3.3", "portFrom": 0,
                                            "portTo": 0}]),
     "dst 198.51.100.3 proto 0 tos 0 in-ports router0:port0 pos 1 type dnat action accept "
     "target 172.16.3.3"),
    (rule(outPorts=["p-r1-0"], type="snat", flowAction="accept", position=2,
          natTargets=[{"addressFrom": "198.51.100.2", "addressTo": "198.51.100.2",
                       "portFrom": 1, "portTo": 65535}]),
     "proto 0 tos 0 out-ports router1:port0 pos 2 type snat action accept "
     "target 198.51.100.2:1--1"),
    (rule(nwDstAddress="198.51.100.2", nwDstLength=32, inPorts=["p-r0-0"], type="rev_snat",
          flowAction="accept", position=2),
     "dst 198.51.100.2 proto 0 tos 0 in-ports router0:port0 pos 2 type rev_snat "
     "action accept"),
    (rule(dlSrc="12:34:56:78:90:ab", invDlSrc=True, dlSrcMask="ffff.ff00.0000", type="drop"),
     "hw-src !12:34:56:78:90:ab hw-src-mask ffff.ff00.0000 proto 0 tos 0 pos 1 type drop"),
    (rule(nwProto=None, nwTos=None), "proto 0 tos 0 pos 1 type accept"),
])
def test_rule_lines_match_the_guide(dto: dict[str, Any], line: str) -> None:
    assert describe(RULE, dto, NAMES) == line


def test_fragment_policy_prints_only_when_not_the_default() -> None:
    assert "fragment-policy" not in describe(RULE, rule(tpDst={"start": 80, "end": 80}), NAMES)
    dyn = rule(type="snat", flowAction="accept", natTargets=[
        {"addressFrom": "200.200.200.11", "addressTo": "200.200.200.11", "portFrom": 10000,
         "portTo": 60000}])
    assert default_fragment_policy(dyn) == "unfragmented"
    assert "fragment-policy" not in describe(RULE, dyn, NAMES)
    assert describe(RULE, rule(fragmentPolicy="header"), NAMES) == \
        "proto 0 tos 0 fragment-policy header pos 1 type accept"


def test_no_vlan_inverted_and_learned_print_only_when_true() -> None:
    assert describe(RULE, rule(noVlan=True, condInvert=True), NAMES) == \
        "inverted true proto 0 tos 0 no-vlan true pos 1 type accept"
    route = {"type": "Normal", "srcNetworkAddr": "0.0.0.0", "srcNetworkLength": 0,
             "dstNetworkAddr": "10.100.1.1", "dstNetworkLength": 32, "nextHopGateway": None,
             "nextHopPort": "p-r2-0", "weight": 0, "learned": False}
    assert describe(ROUTE, route, NAMES) == \
        "type normal src 0.0.0.0/0 dst 10.100.1.1 port router2:port0 weight 0"
    route.update(learned=True, nextHopGateway="172.19.0.1", dstNetworkAddr="0.0.0.0",
                 dstNetworkLength=0, type="BlackHole")
    assert describe(ROUTE, route, NAMES) == (
        "type blackhole src 0.0.0.0/0 dst 0.0.0.0/0 gw 172.19.0.1 port router2:port0 weight 0 "
        "learned true")


def test_device_and_port_lines() -> None:
    router = {"name": "tenant-router", "adminStateUp": True, "inboundFilterId": "c0",
              "outboundFilterId": "c1", "asNumber": 0, "loadBalancerId": None}
    assert describe(ROUTER, router, NAMES) == \
        "name tenant-router state up infilter chain0 outfilter chain1"
    rport = {"type": "Router", "deviceId": "r1", "adminStateUp": True,
             "portMac": "02:a6:81:08:ab:5d", "portAddress": "10.100.1.1",
             "networkAddress": "10.100.1.0", "networkLength": 24, "peerId": "b1p0"}
    assert describe(ROUTER_PORT, rport, NAMES) == (
        "device router1 state up mac 02:a6:81:08:ab:5d addresses 10.100.1.1/24 "
        "peer bridge1:port0")
    bport = {"type": "Bridge", "deviceId": "r1", "adminStateUp": False, "vlanId": 10,
             "peerId": None, "inboundFilterId": "c0"}
    assert describe(BRIDGE_PORT, bport, NAMES) == \
        "device router1 state down infilter chain0 vlan 10"
    assert describe(BRIDGE, {"name": "External", "adminStateUp": True}, NAMES) == \
        "name External state up"


def test_host_interface_and_member_lines() -> None:
    host = {"name": "controller", "alive": True, "floodingProxyWeight": 1,
            "containerWeight": 1, "containerLimit": -1, "enforceContainerLimit": False,
            "addresses": ["10.0.0.1"]}
    assert describe(HOST, host, NAMES) == "name controller alive true"
    host.update(alive=False, containerLimit=4, floodingProxyWeight=0)
    assert describe(HOST, host, NAMES) == \
        "name controller alive false flooding-proxy-weight 0 container-limit 4"
    iface = {"hostId": "h0", "name": "midonet", "mac": "12:6e:b7:d0:4f:f1", "mtu": 1500,
             "type": "Virtual", "endpoint": "DATAPATH", "addresses": [], "status": 0}
    assert describe(INTERFACE, iface, NAMES) == (
        "iface midonet host_id host0 status 0 addresses [] mac 12:6e:b7:d0:4f:f1 mtu 1500 "
        "type Virtual endpoint DATAPATH")
    member = {"tunnelZoneId": "tz0", "hostId": "h0", "ipAddress": "192.168.0.3"}
    assert describe(TZ_MEMBER, member, NAMES) == "zone tzone0 host host0 address 192.168.0.3"
    binding = {"hostId": "h0", "interfaceName": "eth1", "portId": "b1p0"}
    assert describe(BINDING, binding, NAMES) == "host host0 interface eth1 port bridge1:port0"
    assert describe(PG_MEMBER, {"portGroupId": "pg0", "portId": "p-r0-0"}, NAMES) == \
        "port-group pgroup0 port router0:port0"
    assert describe(IP_ADDR, {"addr": "172.16.0.3"}, NAMES) == "address 172.16.0.3"
    assert describe(TUNNEL_ZONE, {"name": "new-tz", "type": "vxlan"}, NAMES) == \
        "name new-tz type vxlan"
    assert describe(PORT_GROUP, {"name": "SPG", "stateful": True}, NAMES) == \
        "name SPG stateful true"


def test_rule_attributes_write_api_fields() -> None:
    src = RULE.attr("src")
    assert src is not None
    assert src.write("!10.0.0.0/16", NAMES) == {"nwSrcAddress": "10.0.0.0",
                                                  "nwSrcLength": 16, "invNwSrc": True}
    assert src.write("172.16.3.3", NAMES) == {"nwSrcAddress": "172.16.3.3",
                                               "nwSrcLength": 32, "invNwSrc": False}
    in_ports = RULE.attr("in-ports")
    assert in_ports is not None
    assert in_ports.write("!router0:port0,router2:port0", NAMES) == {
        "inPorts": ["p-r0-0", "p-r2-0"], "invInPorts": True}
    flow = RULE.attr("flow")
    assert flow is not None
    assert flow.write("fwd-flow", NAMES) == {"matchForwardFlow": True, "matchReturnFlow": False}
    ethertype = RULE.attr("ethertype")
    assert ethertype is not None and ethertype.write("!2054", NAMES) == {
        "dlType": 2054, "invDlType": True}
    no_vlan = RULE.attr("no-vlan")
    assert no_vlan is not None and no_vlan.write("false", NAMES) == {"noVlan": False}
    target = RULE.attr("target")
    assert target is not None and target.write("198.51.100.2:1--1", NAMES)["natTargets"][0][
        "portTo"] == 65535
    addresses = ROUTER_PORT.attr("addresses")
    assert addresses is not None and addresses.write("169.254.255.3/30", NAMES) == {
        "portAddress": "169.254.255.3", "networkAddress": None, "networkLength": 30}
    net = ROUTER_PORT.attr("net")
    assert net is not None and net.write("192.168.11.0/24", NAMES) == {
        "networkAddress": "192.168.11.0", "networkLength": 24}
    rtype = ROUTE.attr("type")
    assert rtype is not None and rtype.write("blackhole", NAMES) == {"type": "BlackHole"}
    avail = SYSTEM_STATE.attr("availability")
    assert avail is not None and avail.write("readonly", NAMES) == {"availability": "READONLY"}


@pytest.mark.parametrize("name, value, message", [
    ("type", "dn", "type: 'dn' is not one of accept, continue, drop"),
    ("fragment-policy", "!header", "fragment-policy: '!header' is not one of"),
    ("flow", "both", "flow: 'both' is not fwd-flow or return-flow"),
    ("proto", "tcp", "proto: 'tcp' is not an integer"),
    ("pos", "0", "pos: 0 is less than 1"),
])
def test_rule_attribute_errors(name: str, value: str, message: str) -> None:
    attr = RULE.attr(name)
    assert attr is not None
    with pytest.raises(Exception, match=message.replace("(", r"\(")):
        attr.write(value, NAMES)
