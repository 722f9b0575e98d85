"""The sandbox every controller is measured on, and the traffic cases between its VMs.

Two hypervisors joined by VXLAN; subnet 10.0.1.0/24 (vm1, vm2, vm3) and subnet 10.0.2.0/24
(vm4, vm5), each with its gateway at ``.1``:

=====  ====  ==============
vm     host  address
=====  ====  ==============
vm1    h1    10.0.1.11/24   the sender in every case
vm2    h2    10.0.1.12/24   same subnet, other host
vm3    h1    10.0.1.13/24   same subnet, same host
vm4    h2    10.0.2.14/24   other subnet, other host
vm5    h1    10.0.2.15/24   other subnet, same host
=====  ====  ==============
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

# Another name (RYU_MIDONET_BENCH_NAME) lets a second benchmark run beside this one, in
# namespaces of its own; give it its own --run-dir too.
SANDBOX_NAME = os.environ.get("RYU_MIDONET_BENCH_NAME", "bench")
# ... and an underlay of its own (RYU_MIDONET_BENCH_UNDERLAY, a /24), where another
# sandbox takes the default one.
UNDERLAY = os.environ.get("RYU_MIDONET_BENCH_UNDERLAY", "")
NAMESPACE_PREFIX = f"rm-{SANDBOX_NAME}-"
HOSTS = ("h1", "h2")
SUBNETS = {"10.0.1": "net1", "10.0.2": "net2"}
PREFIX_LEN = 24


@dataclass(frozen=True)
class VmPlan:
    name: str
    host: str
    ip: str
    mac: str

    @property
    def subnet(self) -> str:
        return self.ip.rsplit(".", 1)[0]

    @property
    def gateway(self) -> str:
        return f"{self.subnet}.1"


VMS = (
    VmPlan("vm1", "h1", "10.0.1.11", "02:00:00:00:01:11"),
    VmPlan("vm2", "h2", "10.0.1.12", "02:00:00:00:01:12"),
    VmPlan("vm3", "h1", "10.0.1.13", "02:00:00:00:01:13"),
    VmPlan("vm4", "h2", "10.0.2.14", "02:00:00:00:02:14"),
    VmPlan("vm5", "h1", "10.0.2.15", "02:00:00:00:02:15"),
)


@dataclass(frozen=True)
class Case:
    """Traffic from one VM to another.

    ``address`` is the address the source connects to when it is not the destination VM's
    own (a NAT address), ``source`` the address the destination sees the source as when it
    is not the source VM's own, ``port`` the TCP port the destination serves on when it is
    not the usual one. ``baseline`` names the case whose figures of the same controller, same
    run, this one is compared with (instead of with the peers'); ``detail`` says what the
    case sets up, for the report.
    """

    key: str
    label: str
    src: str
    dst: str
    address: str = ""
    source: str = ""
    port: int = 0
    baseline: str = ""

    @property
    def detail(self) -> str:
        return ""


L2_SAME = Case("l2-same", "L2, same host", "vm1", "vm3")
L2_CROSS = Case("l2-cross", "L2, cross host", "vm1", "vm2")
ROUTED_SAME = Case("routed-same", "routed, same host", "vm1", "vm5")
ROUTED_CROSS = Case("routed-cross", "routed, cross host", "vm1", "vm4")
CASES = (L2_SAME, L2_CROSS, ROUTED_SAME, ROUTED_CROSS)


def vm_plan(name: str) -> VmPlan:
    for vm in VMS:
        if vm.name == name:
            return vm
    raise KeyError(name)


def sandbox(agent: str = "none", api: bool = False, name: str = "",
            underlay: str = "", vms: tuple[VmPlan, ...] = VMS) -> dict[str, Any]:
    """The sandbox description; only the agent and the REST API differ between controllers.
    ``name`` and ``underlay`` (a /24) give a second sandbox that runs beside the first;
    ``vms`` another set of VMs on the same two subnets."""
    underlay = underlay or UNDERLAY
    return {
        "name": name or SANDBOX_NAME,
        **({"underlay": {"cidr": underlay}} if underlay else {}),
        "tunnel": "vxlan",
        "hosts": [{"name": h} for h in HOSTS],
        "vms": [{"name": vm.name, "host": vm.host, "interface": f"rm-{vm.name}-tap",
                 "mac": vm.mac, "ip": f"{vm.ip}/{PREFIX_LEN}", "gateway": vm.gateway}
                for vm in vms],
        "api": api,
        "agent": agent,
    }
