"""A "hardware VTEP" for sandbox tests: Open vSwitch's VTEP emulator in a namespace.

The namespace ``<prefix><sandbox>-vtep`` is cabled to the sandbox's underlay. It runs its own
ovsdb-server holding both the switch's ``Open_vSwitch`` database and the ``hardware_vtep`` one
(the management interface, on TCP :data:`MGMT_PORT` at the tunnel address), its own
ovs-vswitchd with the physical switch's bridge ``br0`` (userspace datapath, the tunnel address
on ``br-phy`` as on the sandbox hosts) and Debian's ``ovs-vtep`` emulator over them. Its
physical port ``swp1`` leads to the "bare-metal server" namespace ``<prefix><sandbox>-srv``
on VLAN 10 (the kernel may lack 802.1Q devices, so a bridge ``br-srv`` of the switch's OVS tags
the server's frames: its NIC is an access port of VLAN 10, its trunk is patched to ``swp1``).
Everything is stopped by PID and both namespaces are deleted by :meth:`down`.
It is not a test module (no ``test_`` prefix), so pytest does not collect it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import sys
import time
from pathlib import Path

from ryu_midonet.sandbox import Sandbox, netns, procs, underlay
from ryu_midonet.sandbox.ovs import OvsSwitch
from ryu_midonet.sandbox.shell import output, run

MGMT_PORT = 6632
SWITCH = "br0"
PORT = "swp1"
VLAN = 10
EMULATOR = "/usr/share/openvswitch/scripts/ovs-vtep"
VTEP_SCHEMA = "/usr/share/openvswitch/vtep.ovsschema"


class HardwareVtep:
    """The emulated VTEP at ``ip`` on the sandbox's underlay, with its server at
    ``server_ip`` (and ``server_mac``) on VLAN 10 behind port ``swp1``."""

    def __init__(self, sb: Sandbox, run_dir: Path, ip: str, server_ip: str,
                 server_mac: str) -> None:
        self.sb = sb
        self.ip = ipaddress.IPv4Interface(ip)
        self.tunnel_ip = str(self.ip.ip)
        self.server_ip = server_ip
        self.server_mac = server_mac
        self.ns = sb.spec.namespace("vtep")
        self.server_ns = sb.spec.namespace("srv")
        self.run_dir = run_dir
        self.ovs = OvsSwitch(self.ns, run_dir)
        self.db = f"unix:{run_dir / 'db.sock'}"

    def up(self) -> HardwareVtep:
        mtu = self.sb.spec.underlay_mtu
        self.run_dir.mkdir(parents=True, exist_ok=True)
        netns.add(self.ns)
        underlay.attach(self.sb.spec.namespace("underlay"), "vtep", self.ns, mtu)
        env = self.ovs.env
        run(["ovsdb-tool", "create", str(self.run_dir / "conf.db"),
             "/usr/share/openvswitch/vswitch.ovsschema"], env=env)
        run(["ovsdb-tool", "create", str(self.run_dir / "vtep.db"), VTEP_SCHEMA], env=env)
        self._daemon("ovsdb-server", [str(self.run_dir / "conf.db"),
                                      str(self.run_dir / "vtep.db"),
                                      f"--remote=punix:{self.run_dir / 'db.sock'}",
                                      f"--unixctl={self.ovs.ovsdb_ctl}"])
        self.ovs.vsctl("--no-wait", "init")
        self._daemon("ovs-vswitchd", [self.db, f"--unixctl={self.ovs.vswitchd_ctl}"])
        underlay.setup_phy(self.ovs, self.ip, mtu)
        hosts = [h.underlay_ip for h in self.sb.hosts.values()]
        underlay.add_neighbours(self.ovs, [ipaddress.IPv4Interface(f"{h}/32") for h in hosts])
        output(["ovs-appctl", "-t", str(self.ovs.ovsdb_ctl), "ovsdb-server/add-remote",
                f"ptcp:{MGMT_PORT}:{self.tunnel_ip}"], env=env)
        # the bare-metal server, on VLAN 10 behind port swp1: its untagged NIC is an access
        # port of VLAN 10 on br-srv, whose trunk is patched to swp1 of the switch's bridge
        netns.add(self.server_ns)
        netns.add_veth("srv0", self.ns, "eth0", self.server_ns, 1500)
        netns.set_up(self.ns, "srv0")
        netns.tx_checksum_off(self.server_ns, "eth0")
        netns.set_up(self.server_ns, "eth0", mac=self.server_mac)
        netns.add_address(self.server_ns, "eth0", self.server_ip)
        self.ovs.vsctl(
            "add-br", "br-srv", "--", "set", "Bridge", "br-srv", "datapath_type=netdev",
            "--", "add-port", "br-srv", "srv0", f"tag={VLAN}",
            "--", "add-port", "br-srv", "srv-trunk", "--", "set", "Interface", "srv-trunk",
            "type=patch", f"options:peer={PORT}",
            "--", "add-br", SWITCH, "--", "set", "Bridge", SWITCH, "datapath_type=netdev",
            "--", "add-port", SWITCH, PORT, "--", "set", "Interface", PORT, "type=patch",
            "options:peer=srv-trunk")
        self.vtep_ctl("add-ps", SWITCH)
        self.vtep_ctl("set", "Physical_Switch", SWITCH, f"tunnel_ips={self.tunnel_ip}",
                      f"management_ips={self.tunnel_ip}")
        self.vtep_ctl("add-port", SWITCH, PORT)
        self.start_emulator()
        return self

    def _daemon(self, name: str, args: list[str]) -> None:
        pidfile = self.run_dir / f"{name}.pid"
        run([name, *args, f"--pidfile={pidfile}", f"--log-file={self.run_dir / name}.log",
             "--detach"], netns=self.ns, env=self.ovs.env)

    def start_emulator(self) -> None:
        run([sys.executable, EMULATOR, f"--log-file={self.run_dir / 'ovs-vtep.log'}",
             f"--pidfile={self.run_dir / 'ovs-vtep.pid'}", "--detach", SWITCH],
            netns=self.ns, env=self.ovs.env)

    def vtep_ctl(self, *args: str) -> str:
        return output(["vtep-ctl", f"--db={self.db}", "--timeout=10", *args],
                      env=self.ovs.env)

    def remote_macs(self) -> dict[str, str]:
        """The remote unicast MACs of every logical switch: mac -> tunnel IP."""
        out: dict[str, str] = {}
        for ls in self.vtep_ctl("list-ls").split():
            for line in self.vtep_ctl("list-remote-macs", ls).splitlines():
                parts = line.split("->")
                if len(parts) == 2 and parts[0].strip() != "unknown-dst":
                    out[parts[0].strip()] = parts[1].strip().split("/")[-1]
        return out

    def flood_locators(self) -> list[str]:
        """The tunnel IPs of every logical switch's unknown-dst remote."""
        out: list[str] = []
        for ls in self.vtep_ctl("list-ls").split():
            for line in self.vtep_ctl("list-remote-macs", ls).splitlines():
                if line.strip().startswith("unknown-dst"):
                    out.append(line.split("/")[-1].strip())
        return out

    def restart_database(self) -> None:
        """Stop the switch's ovsdb-server (by PID) and start it again on the same files."""
        self._kill("ovsdb-server")
        self._daemon("ovsdb-server", [str(self.run_dir / "conf.db"),
                                      str(self.run_dir / "vtep.db"),
                                      f"--remote=punix:{self.run_dir / 'db.sock'}",
                                      f"--remote=ptcp:{MGMT_PORT}:{self.tunnel_ip}",
                                      f"--unixctl={self.ovs.ovsdb_ctl}"])

    def _kill(self, name: str) -> None:
        pidfile = self.run_dir / f"{name}.pid"
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            pid = procs.read_pidfile(pidfile, timeout=0)
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.05)

    def down(self) -> None:
        for name in ("ovs-vtep", "ovs-vswitchd", "ovsdb-server"):
            self._kill(name)
        for ns in (self.server_ns, self.ns):
            if netns.exists(ns):
                procs.stop_pids(netns.pids(ns))
                netns.delete(ns)
