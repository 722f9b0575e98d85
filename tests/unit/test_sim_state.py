"""In-memory MAC and ARP tables: ageing, expiry and change announcements."""

from __future__ import annotations

from fakeclock import Clock

from ryu_midonet.sim.state import ARP_TTL, MAC_TTL, MemoryArpTable, MemoryMacTable, State

MAC = "02:00:00:00:00:01"


def test_defaults() -> None:
    assert (MAC_TTL, ARP_TTL) == (300.0, 3600.0)


def test_mac_entries_age_out_and_refreshing_keeps_them() -> None:
    clock = Clock()
    macs = MemoryMacTable(clock=clock)
    assert macs.learn("br", MAC, None, "p1")
    clock.now += 200
    assert not macs.learn("br", MAC, None, "p1")  # refresh: unchanged
    clock.now += 200
    assert macs.get("br", MAC, None) == "p1"  # 400 s after the first learning, 200 after refresh
    clock.now += 101
    assert macs.get("br", MAC, None) is None


def test_mac_entries_are_keyed_by_vlan_and_case_insensitive() -> None:
    macs = MemoryMacTable()
    macs.learn("br", MAC.upper(), 10, "p1")
    assert macs.get("br", MAC, 10) == "p1"
    assert macs.get("br", MAC, None) is None
    assert macs.entries("br") == {(MAC, 10): "p1"}
    assert macs.entries("other") == {}


def test_changes_are_announced_refreshes_are_not() -> None:
    clock = Clock()
    macs = MemoryMacTable(clock=clock)
    heard: list[str] = []
    macs.listeners.append(heard.append)
    macs.learn("br", MAC, None, "p1")
    macs.learn("br", MAC, None, "p1")
    macs.learn("br", MAC, None, "p2")  # moved
    assert heard == [f"mac:br:{MAC}", f"mac:br:{MAC}"]
    assert macs.forget("br", MAC, None) and not macs.forget("br", MAC, None)
    assert len(heard) == 3


def test_expire_removes_and_announces_aged_entries() -> None:
    clock = Clock()
    macs = MemoryMacTable(ttl=10, clock=clock)
    heard: list[str] = []
    macs.listeners.append(heard.append)
    macs.learn("br", MAC, None, "p1")
    macs.learn("br", "02:00:00:00:00:02", None, "p2")
    clock.now += 5
    macs.learn("br", "02:00:00:00:00:02", None, "p2")
    heard.clear()
    clock.now += 6
    assert macs.expire() == 1
    assert heard == [f"mac:br:{MAC}"]
    assert macs.entries("br") == {("02:00:00:00:00:02", None): "p2"}


def test_relearning_an_expired_entry_is_announced() -> None:
    """A flood flow was built while the entry read as absent: the same value must announce."""
    clock = Clock()
    macs = MemoryMacTable(ttl=10, clock=clock)
    heard: list[str] = []
    macs.listeners.append(heard.append)
    macs.learn("br", MAC, None, "p1")
    clock.now += 11
    assert macs.learn("br", MAC, None, "p1")
    assert len(heard) == 2


def test_arp_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    arps = MemoryArpTable(ttl=60, clock=clock)
    heard: list[str] = []
    arps.listeners.append(heard.append)
    assert arps.put("r", "10.0.0.2", "02:00:00:00:00:AA")
    assert arps.get("r", "10.0.0.2") == "02:00:00:00:00:aa"
    assert arps.entries("r") == {"10.0.0.2": "02:00:00:00:00:aa"}
    clock.now += 61
    assert arps.get("r", "10.0.0.2") is None
    assert arps.expire() == 1
    assert heard == ["arp:r:10.0.0.2", "arp:r:10.0.0.2"]


def test_state_in_memory_wires_both_tables() -> None:
    clock = Clock()
    state = State.in_memory(mac_ttl=1, arp_ttl=2, clock=clock)
    state.macs.learn("br", MAC, None, "p1")
    state.arps.put("r", "10.0.0.2", MAC)
    clock.now += 1.5
    assert state.macs.get("br", MAC, None) is None
    assert state.arps.get("r", "10.0.0.2") == MAC


def test_static_mac_entries_never_age_out_and_learning_never_replaces_them() -> None:
    clock = Clock()
    macs = MemoryMacTable(ttl=10, clock=clock)
    seen: list[str] = []
    macs.listeners.append(seen.append)
    assert macs.add_static("br", "02:00:00:00:00:0A", None, "p1")
    assert seen == ["mac:br:02:00:00:00:00:0a"]  # flows built on the entry go
    assert not macs.learn("br", "02:00:00:00:00:0a", None, "p2")
    clock.now += 3600
    assert macs.expire() == 0
    assert macs.get("br", "02:00:00:00:00:0a", None) == "p1"
    assert macs.entries("br") == {("02:00:00:00:00:0a", None): "p1"}
    assert macs.forget("br", "02:00:00:00:00:0a", None)  # deleting one is allowed
    assert macs.learn("br", "02:00:00:00:00:0a", None, "p2")
