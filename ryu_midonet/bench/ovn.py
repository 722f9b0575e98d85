"""OVN, the peer operators compare ryu-midonet with: the same topology on the same hosts.

Every sandbox host becomes an OVN chassis: its ``ovn-controller`` programs the host's
``br-int`` and Geneve tunnels to the other host over the sandbox's underlay (userspace
datapath tunnelling, like ryu-midonet's VXLAN). The VMs' interfaces are plugged into ``br-int``
with ``external_ids:iface-id`` naming their logical switch ports. The logical network, the NAT
cases and the configuration change are in :mod:`.ovn_nb`; the daemons in :mod:`.ovn_daemons`.

OVN translates its logical flows into OpenFlow flows before any traffic (and knows every
port's MAC and IP address), so no packet of these cases goes to a controller.
"""

from __future__ import annotations

from pathlib import Path

from ryu_midonet.bench import layout, nat, ovn_nb
from ryu_midonet.bench.layout import Case
from ryu_midonet.bench.ovn_daemons import Ovn, missing, version
from ryu_midonet.bench.scenario import Scenario
from ryu_midonet.sandbox import Sandbox
from ryu_midonet.sandbox.host import TUNNEL_PORTS

OF_PROTOCOLS = "OpenFlow10,OpenFlow13,OpenFlow15"
SYNC_TIMEOUT = 60.0


class OvnScenario(Scenario):
    key = "ovn"
    label = "OVN"
    cases = layout.CASES
    change_cases = (layout.ROUTED_SAME, layout.ROUTED_CROSS)
    configured_cases = (nat.FIP, nat.SNAT)
    clear_note = ("first packet: after flushing the datapath flow caches; ovn-controller "
                  "installs its OpenFlow flows proactively (from the logical flows, with every "
                  "port's MAC and IP address known), so the figure is an upcall to "
                  "ovs-vswitchd's OpenFlow tables, no controller")
    change_note = ("change: ovn-nbctl lr-route-add of a discard route for the destination /32 "
                   "(no --wait: timed from the call, as ryu-midonet's REST call), then "
                   "lr-route-del; NAT: a gateway port on router r (gateway chassis h1 for the "
                   "floating IP, h2 for SNAT) while the case is measured")

    def __init__(self, vms: tuple[layout.VmPlan, ...] = layout.VMS) -> None:
        self.vms = vms  # the VMs of the sandbox, on the layout's two subnets
        self._ovn: Ovn | None = None
        self._sb: Sandbox | None = None

    def version(self) -> str:
        return version()

    def unavailable(self) -> str | None:
        return missing()

    def start(self, sb: Sandbox, run_dir: Path) -> None:
        self._sb = sb
        self._ovn = ovn = Ovn(run_dir / "ovn")
        ovn.start_central()
        ovn.nbctl(*ovn_nb.transaction(ovn_nb.topology(self.vms)))
        for host in sb.hosts.values():
            host.vsctl("del-controller", host.bridge, "--", "--if-exists", "del-port",
                       host.bridge, TUNNEL_PORTS[host.tunnel], "--", "set", "Bridge",
                       host.bridge, f"protocols={OF_PROTOCOLS}", "--", "set", "Open_vSwitch",
                       ".", *ovn_nb.chassis_settings(ovn.sb, host.underlay_ip, host.bridge))
            args: list[str] = []
            for vm in sb.vms.values():
                if vm.host is host:
                    args += ["--", "--may-exist", "add-port", host.bridge, vm.interface, "--",
                             "set", "Interface", vm.interface,
                             f"external_ids:iface-id={vm.name}"]
            host.vsctl(*args[1:])
            ovn.start_controller(host)
        ovn.wait_chassis([host.host_id for host in sb.hosts.values()])
        ovn.nbctl("--wait=hv", "sync", timeout=SYNC_TIMEOUT)

    def stop(self) -> None:
        if self._ovn is not None:
            self._ovn.stop()
        self._ovn = None

    def nbctl(self, *args: str) -> str:
        """One ``ovn-nbctl`` call on the running NB database; its output."""
        if self._ovn is None:
            raise RuntimeError("OVN is not running")
        return self._ovn.nbctl(*args)

    def block(self, sb: Sandbox, case: Case) -> None:
        self.nbctl(*ovn_nb.block(case))

    def unblock(self, sb: Sandbox, case: Case) -> None:
        self.nbctl(*ovn_nb.unblock(case))

    def configure(self, sb: Sandbox, case: Case) -> None:
        if not isinstance(case, nat.NatCase):
            raise TypeError(f"no configuration for {case.key}")
        chassis = sb.host(ovn_nb.gateway(case)[1]).host_id
        self.nbctl(*ovn_nb.transaction(ovn_nb.configure(case, chassis)))

    def unconfigure(self, sb: Sandbox, case: Case) -> None:
        if not isinstance(case, nat.NatCase) or self._ovn is None:
            return
        subnet, host = ovn_nb.gateway(case)
        chassis = sb.host(host).host_id
        nat_del, gw_del = ovn_nb.unconfigure(case, chassis)
        self._ovn.nbctl(*nat_del)
        # Only a gateway chassis that is there (configure may have failed before it).
        if chassis in self._ovn.nbctl("lrp-get-gateway-chassis", ovn_nb.router_port(subnet)):
            self._ovn.nbctl(*gw_del)
        self._ovn.nbctl("--wait=hv", "sync", timeout=SYNC_TIMEOUT)
