"""The bridge's ARP table: given a router-less bridge, when a VM sends ARP, then its address is
learned (or not), and ARP requests for a learned address are answered on the asking port
while its MAC is learned on the asker's segment; changes to either entry remove the flows.

    vm1, vm2, vm3 (exterior ports)  --[bridge br]--  v10 (VLAN 10)
"""

from __future__ import annotations

from ryu_midonet.sim import simulate
from ryu_midonet.sim.core.model import Output, Packet, Result
from ryu_midonet.sim.state import State, ip4mac_tag, mac_tag
from tests.support import packets
from tests.support.packets import udp
from tests.support.topology import MemoryTopology

VM1, VM2, VM3 = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
IP1, IP2, IP3 = "10.0.0.1", "10.0.0.2", "10.0.0.3"


def bridge() -> MemoryTopology:
    b = MemoryTopology()
    br = b.bridge("br")
    for port_id in ("vm1", "vm2", "vm3"):
        b.bridge_port(br, host="h1", port_id=port_id)
    b.bridge_port(br, host="h1", port_id="v10", vlanId=10)
    return b


def who_has(tpa: str, mac: str = VM1, spa: str = IP1) -> Packet:
    return packets.arp(1, mac, spa, tpa)


def reply(sha: str, spa: str, to_mac: str, to_ip: str, eth_src: str | None = None) -> Packet:
    return Packet(eth_src=eth_src or sha, eth_dst=to_mac, eth_type=0x0806, arp_op=2,
                  arp_sha=sha, arp_spa=spa, arp_tha=to_mac, arp_tpa=to_ip)


def answer(result: Result, port_id: str) -> str | None:
    """The MAC the bridge answered with out of ``port_id`` (in place or generated)."""
    for out in result.outputs:
        for rw in out.rewrites:
            if out.port_id == port_id and rw.op == "arp_reply":
                return str(rw.value.mac)
    for emit in result.emits:
        if emit.port_id == port_id and emit.packet.arp_op == 2:
            return emit.packet.arp_sha
    return None


def test_arp_requests_and_replies_teach_the_senders_address() -> None:
    b, state = bridge(), State.in_memory()
    request = simulate(b.view(), state, "vm1", who_has(IP2))
    assert state.ip4macs.get("br", IP1) == VM1
    assert ip4mac_tag("br", IP1) in request.tags  # its expiry removes the flow: learned again
    assert {"eth_type", "arp_spa", "arp_sha", "eth_src"} <= request.fields_read
    simulate(b.view(), state, "vm2", reply(VM2, IP2, VM1, IP1))
    assert state.ip4macs.entries("br") == {IP1: VM1, IP2: VM2}


def test_what_is_not_learned() -> None:
    b, state = bridge(), State.in_memory()
    simulate(b.view(), state, "vm1", who_has(IP2, spa="0.0.0.0"))  # duplicate address probe
    simulate(b.view(), state, "vm2", reply(VM2, IP2, VM1, IP1, eth_src=VM3))  # not its own
    simulate(b.view(), state, "vm3", reply("01:00:5e:00:00:01", IP3, VM1, IP1))  # group MAC
    simulate(b.view(), state, "vm3", who_has(IP1, VM3, "224.0.0.5"))  # multicast address
    other = simulate(b.view(), state, "vm3", udp(VM3, VM1, IP3, IP1, 1000, 2000))  # not ARP
    assert state.ip4macs.entries("br") == {}
    assert "eth_type" in other.fields_read and not {"arp_spa", "arp_sha"} & other.fields_read


def test_a_learned_address_is_answered_on_the_askers_port() -> None:
    b, state = bridge(), State.in_memory()
    simulate(b.view(), state, "vm2", reply(VM2, IP2, VM1, IP1))
    result = simulate(b.view(), state, "vm1", who_has(IP2))
    assert answer(result, "vm1") == VM2
    assert Output("vm2") not in result.outputs and Output("vm3") not in result.outputs
    assert {ip4mac_tag("br", IP2), mac_tag("br", VM2)} <= result.tags


def test_unknown_addresses_owner_probes_and_other_segments_flood() -> None:
    b, state = bridge(), State.in_memory()
    simulate(b.view(), state, "vm2", reply(VM2, IP2, VM1, IP1))
    unknown = simulate(b.view(), state, "vm1", who_has(IP3))
    assert answer(unknown, "vm1") is None and Output("vm3") in unknown.outputs
    assert ip4mac_tag("br", IP3) in unknown.tags  # learning IP3 later removes the flood flow
    probe = simulate(b.view(), state, "vm2", who_has(IP2, VM2, IP2))  # gratuitous
    assert answer(probe, "vm2") is None
    owner = simulate(b.view(), state, "vm2", who_has(IP2, VM2, "0.0.0.0"))  # its own probe
    assert answer(owner, "vm2") is None and Output("vm1") in owner.outputs
    vlan = simulate(b.view(), state, "v10", who_has(IP2, VM3, IP3))  # VM2 is untagged
    assert answer(vlan, "v10") is None


def test_answers_follow_a_move_and_stop_when_the_entry_goes() -> None:
    now = [0.0]
    b, state = bridge(), State.in_memory(clock=lambda: now[0], mac_ttl=1000.0,
                                         ip4mac_ttl=100.0)
    changed: list[str] = []
    state.ip4macs.listeners.append(changed.append)
    state.macs.listeners.append(changed.append)
    simulate(b.view(), state, "vm2", reply(VM2, IP2, VM1, IP1))
    first = simulate(b.view(), state, "vm1", who_has(IP2))
    simulate(b.view(), state, "vm3", reply(VM2, IP2, VM1, IP1))  # VM2 moved behind vm3
    assert mac_tag("br", VM2) in changed and mac_tag("br", VM2) in first.tags
    assert answer(simulate(b.view(), state, "vm1", who_has(IP2)), "vm1") == VM2
    simulate(b.view(), state, "vm3", reply(VM3, IP2, VM1, IP1))  # IP2 now at VM3
    assert ip4mac_tag("br", IP2) in changed
    assert answer(simulate(b.view(), state, "vm1", who_has(IP2)), "vm1") == VM3
    changed.clear()
    now[0] = 150.0
    assert state.ip4macs.expire() == 2  # IP2's entry and IP1's
    assert ip4mac_tag("br", IP2) in changed
    assert answer(simulate(b.view(), state, "vm2", who_has(IP2, VM2, IP3)), "vm2") is None


def test_a_static_entry_does_not_age_and_learning_keeps_it() -> None:
    now = [0.0]
    b, state = bridge(), State.in_memory(clock=lambda: now[0], ip4mac_ttl=100.0)
    table = state.ip4macs
    assert hasattr(table, "add_static")
    table.add_static("br", IP2, VM2)
    simulate(b.view(), state, "vm2", reply(VM2, IP2, VM1, IP1))  # learned again: no change
    now[0] = 10_000.0
    table.expire()
    assert table.get("br", IP2) == VM2
