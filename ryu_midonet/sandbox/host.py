"""A sandbox host: a namespace with its own Open vSwitch, cabled to the underlay.

Inside the namespace ``<prefix>[<sandbox>-]<host>``:

- ``br-phy`` (netdev) holding ``ul0`` and the underlay address (see :mod:`.underlay`);
- the integration bridge ``br-int``: datapath_type=netdev, fail_mode=secure,
  protocols=OpenFlow13, in-band control off, controller ``tcp:127.0.0.1:<ofport>`` (retried
  every second at most, so an agent started later is picked up quickly);
- unless ``tunnel_port: false``, the flow-based tunnel port: ``tun-vxlan`` (type=vxlan,
  remote_ip=flow, key=flow, dst_port=6677) or ``tun-gre`` (type=gre, remote_ip=flow, key=flow),
  with outer TTL 255;
- ``Open_vSwitch`` external_ids ``system-id`` (the host id) and ``hostname``.
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

from ryu_midonet.sandbox import underlay
from ryu_midonet.sandbox.config import HostSpec, SandboxSpec
from ryu_midonet.sandbox.ovs import OvsSwitch
from ryu_midonet.sandbox.procs import ProcessRecord
from ryu_midonet.sandbox.shell import Command, run

TUNNEL_PORTS = {"vxlan": "tun-vxlan", "gre": "tun-gre"}
TUNNEL_TTL = 255  # the outer TTL of encapsulated packets, as the agent sets it
CONTROLLER_MAX_BACKOFF_MS = 1000


class Host:
    """One hypervisor of the sandbox, and what an agent needs to run on it."""

    def __init__(self, spec: HostSpec, sandbox: SandboxSpec, run_dir: Path, host_id: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.netns = sandbox.namespace(spec.name)
        self.run_dir = run_dir
        self.host_id = host_id
        self.bridge = sandbox.bridge
        self.ofport = sandbox.openflow_port
        self.tunnel = sandbox.tunnel
        self.tunnel_port = TUNNEL_PORTS[sandbox.tunnel]
        self.vxlan_port = sandbox.vxlan_port
        self.underlay: ipaddress.IPv4Interface = spec.underlay_ip
        self.switch = OvsSwitch(self.netns, run_dir)
        self._sandbox = sandbox

    @property
    def underlay_ip(self) -> str:
        return str(self.underlay.ip)

    @property
    def ovsdb(self) -> str:
        """The OVSDB remote of this host's switch: ``unix:<run_dir>/db.sock``."""
        return self.switch.ovsdb

    @property
    def controller(self) -> str:
        return f"tcp:127.0.0.1:{self.ofport}"

    def build(self, underlay_ns: str) -> list[ProcessRecord]:
        """Set up the (already created) namespace; returns the OVS daemons' records."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "host_id").write_text(self.host_id + "\n")
        underlay.attach(underlay_ns, self.name, self.netns, self._sandbox.underlay_mtu)
        records = self.switch.start()
        self.switch.vsctl("set", "Open_vSwitch", ".", f"external_ids:system-id={self.host_id}",
                          f"external_ids:hostname={self.name}")
        underlay.setup_phy(self.switch, self.underlay, self._sandbox.underlay_mtu)
        self._integration_bridge()
        return records

    def restart_switch(self, peers: list[ipaddress.IPv4Interface]) -> list[ProcessRecord]:
        """Start the (stopped) Open vSwitch daemons again on their database; ``br-phy`` gets
        its address, routes and the ``peers``' neighbour entries back."""
        records = self.switch.start_daemons()
        underlay.restore_phy(self.switch, self.underlay, self._sandbox.underlay_mtu, peers)
        return records

    def _integration_bridge(self) -> None:
        br = self.bridge
        args = ["add-br", br, "--", "set", "Bridge", br, "datapath_type=netdev",
                "fail_mode=secure", "protocols=OpenFlow13", "other_config:disable-in-band=true",
                "controller=@ctl", "--", "--id=@ctl", "create", "Controller",
                f"target=\"{self.controller}\"", f"max_backoff={CONTROLLER_MAX_BACKOFF_MS}"]
        if self._sandbox.tunnel_port:
            options = ["options:remote_ip=flow", "options:key=flow",
                       f"options:ttl={TUNNEL_TTL}"]
            if self.tunnel == "vxlan":
                options.append(f"options:dst_port={self.vxlan_port}")
            args += ["--", "add-port", br, self.tunnel_port, "--", "set", "Interface",
                     self.tunnel_port, f"type={self.tunnel}", *options]
        self.switch.vsctl(*args)

    def exec(self, cmd: Command, check: bool = False,
             timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run a command inside this host's namespace."""
        return run(cmd, netns=self.netns, check=check, timeout=timeout)

    def vsctl(self, *args: str) -> str:
        return self.switch.vsctl(*args)

    def ofctl(self, *args: str) -> str:
        """``ovs-ofctl -O OpenFlow13 ARGS`` against this host's switch."""
        return self.switch.ofctl(*args)

    def appctl(self, *args: str) -> str:
        return self.switch.appctl(*args)

    def add_flows(self, flows: list[str], bridge: str | None = None) -> None:
        self.switch.add_flows(bridge or self.bridge, flows)

    def plug(self, iface: str, bridge: str | None = None) -> int:
        """Add an interface to a bridge (br-int by default); returns its OpenFlow port."""
        self.switch.vsctl("--may-exist", "add-port", bridge or self.bridge, iface)
        return self.switch.ofport(iface)

    @property
    def tunnel_ofport(self) -> int:
        """OpenFlow port number of the flow-based tunnel port on br-int."""
        return self.switch.ofport(self.tunnel_port)

    def facts(self) -> dict[str, str | int]:
        """The attributes an agent is started with (also the agent template's fields)."""
        return {"host": self.name, "host_id": self.host_id, "netns": self.netns,
                "run_dir": str(self.run_dir), "ovsdb": self.ovsdb, "ofport": self.ofport,
                "bridge": self.bridge, "underlay_ip": self.underlay_ip, "tunnel": self.tunnel,
                "tunnel_port": self.tunnel_port}

    def __repr__(self) -> str:
        return f"Host({self.name!r}, netns={self.netns!r}, underlay_ip={self.underlay_ip!r})"
