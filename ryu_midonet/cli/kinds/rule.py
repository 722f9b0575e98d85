"""Chain rules, reached through their chain."""

from __future__ import annotations

from ryu_midonet.cli import attrs as a
from ryu_midonet.cli.kinds.common import ID
from ryu_midonet.cli.objtype import CliKind, ObjType, same

RULE_TYPES = ("accept", "continue", "drop", "jump", "reject", "return", "dnat", "snat",
              "rev_dnat", "rev_snat")

RULE = ObjType("rule", "rule", "rule", (
    ID,
    a.Bool("inverted", "condInvert", show_false=False),
    a.Mac("hw-src", "dlSrc", inv="invDlSrc"),
    a.MacMask("hw-src-mask", "dlSrcMask"),
    a.Mac("hw-dst", "dlDst", inv="invDlDst"),
    a.MacMask("hw-dst-mask", "dlDstMask"),
    a.EtherType("ethertype", "dlType", inv="invDlType", lo=-32768, hi=65535),
    a.Cidr("src", "nwSrcAddress", len_field="nwSrcLength", inv="invNwSrc"),
    a.Cidr("dst", "nwDstAddress", len_field="nwDstLength", inv="invNwDst"),
    a.Int("proto", "nwProto", inv="invNwProto", lo=0, hi=255, null_as=0),
    a.Int("tos", "nwTos", inv="invNwTos", lo=0, hi=255, null_as=0),
    a.PortRange("src-port", "tpSrc", inv="invTpSrc"),
    a.PortRange("dst-port", "tpDst", inv="invTpDst"),
    a.Flow("flow"),
    a.Ref("port-group", "portGroup", inv="invPortGroup", ref="port-group"),
    a.Ref("in-port-group", "inPortGroup", inv="invInPortGroup", ref="port-group"),
    a.Ref("out-port-group", "outPortGroup", inv="invOutPortGroup", ref="port-group"),
    a.Ref("ip-address-group-src", "ipAddrGroupSrc", inv="invIpAddrGroupSrc",
          ref="ip-address-group"),
    a.Ref("ip-address-group-dst", "ipAddrGroupDst", inv="invIpAddrGroupDst",
          ref="ip-address-group"),
    a.RefList("in-ports", "inPorts", inv="invInPorts", ref="port"),
    a.RefList("out-ports", "outPorts", inv="invOutPorts", ref="port"),
    a.Attr("traversed-device", "traversedDevice", inv="invTraversedDevice"),
    a.FragmentPolicy("fragment-policy", "fragmentPolicy",
                     choices=same("any", "header", "nonheader", "unfragmented")),
    a.Bool("no-vlan", "noVlan", show_false=False),
    a.Int("vlan", "vlan", lo=0, hi=4095),
    a.Cidr("icmp-data-src", "icmpDataSrcIpAddress", len_field="icmpDataSrcIpLength",
           inv="invIcmpDataSrcIp"),
    a.Cidr("icmp-data-dst", "icmpDataDstIpAddress", len_field="icmpDataDstIpLength",
           inv="invIcmpDataDstIp"),
    a.Bool("match-nw-dst-rewritten", "matchNwDstRewritten", show_false=False),
    a.Int("pos", "position", lo=1),
    a.Enum("type", "type", choices=same(*RULE_TYPES)),
    a.Enum("action", "flowAction", choices=same("accept", "continue", "return")),
    a.Ref("jump-to", "jumpChainId", ref="chain"),
    a.NatTarget("target", "natTargets"),
    a.Attr("meter", "meterName"),
), required=("type",))

CLI = CliKind()
