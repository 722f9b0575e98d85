"""The OVN peer's logical network, as ``ovn-nbctl`` commands (pure: no process is run here).

The same topology as ryu-midonet's: logical switches ``net1`` and ``net2`` with the VMs'
ports (named after the VMs, the ``iface-id`` of their interfaces), and a distributed logical
router ``r`` with a port on each at the ``.1`` address. Each command is an argument list for
one ``ovn-nbctl`` call; :func:`transaction` joins several into one call (one NB transaction).

The NAT cases put a distributed gateway port on ``r`` while they are measured (only then:
with a gateway port, traffic through it goes by its gateway chassis, which would change the
plain routed cases):

* floating IP: ``dnat_and_snat`` of the floating IP to vm4's address, on the gateway port
  towards vm1 (``r-net1``, gateway chassis h1, vm1's host): vm1 (h1) -> h1 (DNAT) -> vm4 (h2);
* dynamic SNAT: ``snat`` of net1's subnet to the NAT address, on the gateway port towards vm4
  (``r-net2``, gateway chassis h2, vm4's host): vm1 (h1) -> h2 (SNAT) -> vm4 (h2).

A configuration change is a ``discard`` static route for the destination's /32 on ``r``
(what ryu-midonet's BlackHole route does), undone by deleting the route.
"""

from __future__ import annotations

from ryu_midonet.bench import layout, nat

ROUTER = "r"
Command = list[str]


def router_port(subnet: str) -> str:
    """The router's port on a subnet's switch, e.g. ``r-net1``."""
    return f"{ROUTER}-{layout.SUBNETS[subnet]}"


def router_mac(subnet: str) -> str:
    """The MAC of the router's port on a subnet: ``02:00:00:00:ff:<third octet>``."""
    return f"02:00:00:00:ff:{int(subnet.rsplit('.', 1)[1]):02x}"


def topology(vms: tuple[layout.VmPlan, ...] = layout.VMS) -> list[Command]:
    """The switches, the VMs' ports with their addresses, the router and its ports."""
    cmds: list[Command] = [["ls-add", name] for name in layout.SUBNETS.values()]
    for vm in vms:
        switch = layout.SUBNETS[vm.subnet]
        cmds += [["lsp-add", switch, vm.name],
                 ["lsp-set-addresses", vm.name, f"{vm.mac} {vm.ip}"]]
    cmds.append(["lr-add", ROUTER])
    for subnet, switch in layout.SUBNETS.items():
        rport, sport = router_port(subnet), f"{switch}-{ROUTER}"
        cmds += [["lrp-add", ROUTER, rport, router_mac(subnet),
                  f"{subnet}.1/{layout.PREFIX_LEN}"],
                 ["lsp-add", switch, sport],
                 ["lsp-set-type", sport, "router"],
                 ["lsp-set-addresses", sport, "router"],
                 ["lsp-set-options", sport, f"router-port={rport}"]]
    return cmds


def transaction(cmds: list[Command]) -> Command:
    """Several commands as the arguments of one ``ovn-nbctl`` call, separated by ``--``."""
    out: Command = []
    for cmd in cmds:
        out += [*(["--"] if out else []), *cmd]
    return out


def gateway(case: nat.NatCase) -> tuple[str, str]:
    """The subnet whose router port becomes the gateway port for ``case``, and the host
    that is its gateway chassis."""
    inside = layout.vm_plan(case.src)
    return (inside.subnet, inside.host) if case.kind == nat.FLOATING else (
        nat.OUTSIDE.subnet, nat.OUTSIDE.host)


def nat_rule(case: nat.NatCase) -> Command:
    if case.kind == nat.FLOATING:
        return ["lr-nat-add", ROUTER, "dnat_and_snat", case.nat_address, nat.OUTSIDE.ip]
    return ["lr-nat-add", ROUTER, "snat", case.nat_address,
            f"{nat.INSIDE.subnet}.0/{layout.PREFIX_LEN}"]


def configure(case: nat.NatCase, chassis: str) -> list[Command]:
    """The gateway port on chassis ``chassis`` (the gateway host's system-id), then the
    NAT rule of ``case``."""
    subnet, _ = gateway(case)
    return [["lrp-set-gateway-chassis", router_port(subnet), chassis, "10"], nat_rule(case)]


def unconfigure(case: nat.NatCase, chassis: str) -> list[Command]:
    """Undo :func:`configure`; ``--if-exists`` so that it also cleans up a half-done one."""
    subnet, _ = gateway(case)
    kind = "dnat_and_snat" if case.kind == nat.FLOATING else "snat"
    return [["--if-exists", "lr-nat-del", ROUTER, kind, case.nat_address],
            ["lrp-del-gateway-chassis", router_port(subnet), chassis]]


def block(case: layout.Case) -> Command:
    return ["lr-route-add", ROUTER, f"{layout.vm_plan(case.dst).ip}/32", "discard"]


def unblock(case: layout.Case) -> Command:
    return ["lr-route-del", ROUTER, f"{layout.vm_plan(case.dst).ip}/32"]


def chassis_settings(ovn_remote: str, encap_ip: str, bridge: str) -> list[str]:
    """``external_ids`` of a host's ``Open_vSwitch`` record that make it an OVN chassis
    (its ``system-id`` is already set by the sandbox): the SB database, Geneve over the
    host's underlay address, the integration bridge and its (userspace) datapath type."""
    return [f"external_ids:ovn-remote={ovn_remote}", "external_ids:ovn-encap-type=geneve",
            f"external_ids:ovn-encap-ip={encap_ip}", f"external_ids:ovn-bridge={bridge}",
            "external_ids:ovn-bridge-datapath-type=netdev"]


def load_balancer(name: str, vip: str, port: int, backends: list[str],
                  switch: str) -> list[Command]:
    """A TCP load balancer from ``vip``:``port`` to ``backends`` (addresses, same port),
    applied on logical switch ``switch`` (the clients' one: OVN balances in the switch's
    pipeline on the client's chassis, as a distributed router without a gateway port has no
    load balancer of its own)."""
    targets = ",".join(f"{address}:{port}" for address in backends)
    return [["lb-add", name, f"{vip}:{port}", targets, "tcp"], ["ls-lb-add", switch, name]]
