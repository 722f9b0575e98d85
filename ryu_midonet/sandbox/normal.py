"""Plain Open vSwitch L2 between all VMs: the datapath-limit peer for benchmarks (agent: none).

Every host gets a bridge ``br-l2`` (netdev, fail_mode=standalone, so its one flow is NORMAL)
holding its VMs' interfaces and a full mesh of tunnels of the sandbox's type: one port
``l2-<peer>`` per other host with an explicit ``remote_ip`` (VXLAN on the same UDP port as
the agent's tunnels). The tunnel ports are ``protected``: NORMAL never forwards from one
protected port to another, which is the split horizon a full mesh needs to flood without
loops. Incoming tunnel packets match these explicit-remote ports before the flow-based port
on br-int, so the two modes must not be mixed on one sandbox.
"""

from __future__ import annotations

from ryu_midonet.sandbox.sandbox import Sandbox

NORMAL_BRIDGE = "br-l2"


def wire_normal(sb: Sandbox, bridge: str = NORMAL_BRIDGE) -> None:
    """Build ``bridge`` on every host and put every VM's interface on it."""
    for host in sb.hosts.values():
        args = ["--may-exist", "add-br", bridge, "--", "set", "Bridge", bridge,
                "datapath_type=netdev", "fail_mode=standalone",
                "other_config:disable-in-band=true"]
        for peer in sb.hosts.values():
            if peer is host:
                continue
            port = f"l2-{peer.name}"
            options = [f"options:remote_ip={peer.underlay_ip}"]
            if host.tunnel == "vxlan":
                options.append(f"options:dst_port={host.vxlan_port}")
            args += ["--", "--may-exist", "add-port", bridge, port, "--", "set", "Interface",
                     port, f"type={host.tunnel}", *options, "--", "set", "Port", port,
                     "protected=true"]
        for vm in sb.vms.values():
            if vm.host is host:
                args += ["--", "--may-exist", "add-port", bridge, vm.interface]
        host.vsctl(*args)
