"""A sandbox VM: a namespace with one veth (``eth0``) whose peer sits in its host's namespace.

The host-side end carries the name the description gives (the interface a virtual port is
bound to). It is brought up but not added to any bridge: the agent plugs bound interfaces.
Transmit checksum offload is off on ``eth0``, because the userspace switch forwards the
frames as they are and a TCP/UDP checksum left to the NIC would arrive unfinished.
"""

from __future__ import annotations

import ipaddress
import subprocess
import time

from ryu_midonet.sandbox import netns
from ryu_midonet.sandbox.config import SandboxSpec, VmSpec
from ryu_midonet.sandbox.host import Host
from ryu_midonet.sandbox.shell import Command, run

VM_NIC = "eth0"


class Vm:
    """One VM of the sandbox."""

    def __init__(self, spec: VmSpec, sandbox: SandboxSpec, host: Host) -> None:
        self.spec = spec
        self.name = spec.name
        self.netns = sandbox.namespace(spec.name)
        self.host = host
        self.interface = spec.interface
        self.mac = spec.mac
        self.address: ipaddress.IPv4Interface = spec.ip
        self.nic = VM_NIC

    @property
    def ip(self) -> str:
        return str(self.address.ip)

    def build(self) -> None:
        """Cable the (already created) namespace to its host and configure the VM's side."""
        spec = self.spec
        netns.add_veth(spec.interface, self.host.netns, VM_NIC, self.netns, spec.mtu)
        netns.set_up(self.host.netns, spec.interface)
        netns.tx_checksum_off(self.netns, VM_NIC)
        netns.set_up(self.netns, VM_NIC, mac=spec.mac)
        netns.add_address(self.netns, VM_NIC, str(spec.ip))
        if spec.gateway:
            netns.add_default_route(self.netns, str(spec.gateway))

    def exec(self, cmd: Command, check: bool = False,
             timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run a command inside this VM's namespace."""
        return run(cmd, netns=self.netns, check=check, timeout=timeout)

    def ping(self, ip: str, count: int = 1, timeout: float = 2.0, interval: float = 0.2) -> bool:
        """True when ``count`` echo requests to ``ip`` all get a reply within ``timeout`` s each."""
        cmd = ["ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", str(timeout)]
        proc = self.exec([*cmd, ip], timeout=count * (interval + timeout) + 5)
        return proc.returncode == 0

    def wait_ping(self, ip: str, timeout: float = 10.0) -> bool:
        """Ping until a reply comes back or ``timeout`` passes (for paths set up lazily: an
        ICMP error, say from a router that has not seen its new route yet, ends ping but not
        the wait)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            proc = self.exec(["ping", "-n", "-q", "-c", "1", "-w", str(int(max(1, left))), ip],
                             timeout=left + 5)
            if proc.returncode == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def __repr__(self) -> str:
        return f"Vm({self.name!r}, host={self.host.name!r}, ip={self.ip!r})"
