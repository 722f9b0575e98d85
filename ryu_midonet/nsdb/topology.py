"""Operations on the virtual topology, each one atomic and referentially consistent.

This is the only writer of topology objects: the REST API, the CLI (through the API) and the
agents call it. Every public method runs as one :meth:`Store.transaction`. The generic
operations come from :class:`~ryu_midonet.nsdb.objects.Objects`; a kind with operations of its
own adds its mixin to :class:`Topology`.
"""

from __future__ import annotations

from ryu_midonet.nsdb.kinds.chain import ChainRules
from ryu_midonet.nsdb.kinds.host import Bindings, Hosts
from ryu_midonet.nsdb.kinds.ip_addr_group import IpAddrGroupAddresses
from ryu_midonet.nsdb.kinds.port import PortLinks
from ryu_midonet.nsdb.kinds.port_group import PortGroupMembers
from ryu_midonet.nsdb.kinds.system_state import SystemState
from ryu_midonet.nsdb.kinds.tunnel_zone import TunnelZoneMembers
from ryu_midonet.nsdb.kinds.vtep import VtepBindings
from ryu_midonet.nsdb.objects import Objects
from ryu_midonet.nsdb.write_version import WriteVersion


class Topology(Objects, PortLinks, Hosts, Bindings, TunnelZoneMembers, PortGroupMembers,
               IpAddrGroupAddresses, ChainRules, SystemState, WriteVersion, VtepBindings):
    """The topology model on top of a :class:`~ryu_midonet.nsdb.store.Store`."""
