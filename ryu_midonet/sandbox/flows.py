"""Static OpenFlow wiring of the VMs over the flow-based tunnel port, without any agent.

It has the shape the agent's flows have: the ingress host decides, and a packet for a VM on
another host leaves through the tunnel port with the *egress port's* key::

    # host A, VM a on port Pa, VM b on host B (underlay IP Ub) has key Kb:
    in_port=Pa,dl_dst=<mac b>  actions=set_field:Kb->tun_id,set_field:Ub->tun_dst,output:T
    # host B, tunnel port T: the key alone names the local port
    in_port=T,tun_id=Kb  actions=output:Pb

Broadcasts (ARP) go to every other VM: local ports directly, remote ones as one tunnelled
copy per port, each with that port's key. Nothing else is needed on the hosts: OVS's own route
and neighbour tables (filled by the sandbox) pick ``br-phy`` and the next hop.
"""

from __future__ import annotations

from ryu_midonet.sandbox.sandbox import Sandbox
from ryu_midonet.sandbox.vm import Vm

PRIORITY = 100
FIRST_KEY = 0x100


def wire_static(sb: Sandbox, keys: dict[str, int] | None = None) -> dict[str, int]:
    """Plug every VM into br-int and make them one L2 segment; returns VM name -> tunnel key."""
    keys = dict(keys or {})
    for index, name in enumerate(sb.vms):
        keys.setdefault(name, FIRST_KEY + index)
    ports = {name: vm.host.plug(vm.interface) for name, vm in sb.vms.items()}
    for host in sb.hosts.values():
        tunnel = host.tunnel_ofport
        flows = []
        local = [vm for vm in sb.vms.values() if vm.host is host]
        for vm in local:
            flows.append(f"priority={PRIORITY},in_port={tunnel},tun_id={keys[vm.name]},"
                         f"actions=output:{ports[vm.name]}")
            others = [o for o in sb.vms.values() if o is not vm]
            for other in others:
                flows.append(f"priority={PRIORITY},in_port={ports[vm.name]},dl_dst={other.mac},"
                             f"actions={_to(other, vm, keys, ports, tunnel)}")
            flood = ",".join(_to(o, vm, keys, ports, tunnel) for o in others) or "drop"
            flows.append(f"priority={PRIORITY - 1},in_port={ports[vm.name]},"
                         f"dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions={flood}")
        if flows:
            host.add_flows(flows)
    return keys


def _to(dst: Vm, src: Vm, keys: dict[str, int], ports: dict[str, int], tunnel: int) -> str:
    """Actions that deliver a frame from ``src`` to ``dst``."""
    if dst.host is src.host:
        return f"output:{ports[dst.name]}"
    return (f"set_field:{keys[dst.name]}->tun_id,set_field:{dst.host.underlay_ip}->tun_dst,"
            f"output:{tunnel}")
