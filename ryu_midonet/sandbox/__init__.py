"""A multi-host test bed on one machine: hosts and VMs as network namespaces.

Each host runs its own Open vSwitch (userspace datapath) and, optionally, its agent; an
underlay switch joins the hosts so VXLAN/GRE tunnels between them carry real traffic. The
description format is documented in :mod:`ryu_midonet.sandbox.config`; the command line in
:mod:`ryu_midonet.sandbox.cli`.
"""

from ryu_midonet.sandbox.config import ConfigError, SandboxSpec
from ryu_midonet.sandbox.host import Host
from ryu_midonet.sandbox.sandbox import Sandbox
from ryu_midonet.sandbox.vm import Vm

__all__ = ["ConfigError", "Host", "Sandbox", "SandboxSpec", "Vm"]
