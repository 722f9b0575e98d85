"""ryu-midonet: a MidoNet-class network virtualization controller on os-ken.

Operators describe a virtual topology (bridges, routers, ports, chains, NAT, load
balancers, BGP uplinks, VXLAN gateways) through a REST API and a CLI. The topology
lives in a Redis-backed store; an agent on every host turns it into OpenFlow 1.3
pipelines on the local Open vSwitch.
"""

__version__ = "0.1.0"
