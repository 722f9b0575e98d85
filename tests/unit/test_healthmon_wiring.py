"""The wiring of a probed pool: its router port, its namespace routed through the router, the
binding of the port to the namespace's veth on the probing host."""

from __future__ import annotations

import subprocess
from typing import Any

from ryu_midonet.healthmon import wiring

POOL = "0123abcd-0000-4000-8000-000000000001"


class FakeStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        return self.objects.get((kind, obj_id))


class FakeTopo:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.bound: list[tuple[str, str, str]] = []

    def bind(self, host_id: str, port_id: str, iface: str) -> None:
        self.bound.append((host_id, port_id, iface))
        self.store.objects[("port", port_id)].update(hostId=host_id, interfaceName=iface)


class Commands:
    """Runs nothing; the veth's inside end is missing until a veth is added."""

    def __init__(self) -> None:
        self.argvs: list[list[str]] = []
        self.veth = False

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.argvs.append(argv)
        if "veth" in argv:
            self.veth = True
        lost = argv[-2:-1] == ["show"] and argv[-1].startswith("rm-i") and not self.veth
        return subprocess.CompletedProcess(argv, 1 if lost else 0, "", "")

    def index(self, *words: str) -> int:
        return next(i for i, argv in enumerate(self.argvs) if all(w in argv for w in words))


def wired() -> tuple[FakeTopo, Commands, wiring.Wiring]:
    topo = FakeTopo()
    port_id = wiring.port_id(POOL)
    topo.store.objects[("port", port_id)] = {
        "id": port_id, "deviceId": "r1", "portAddress": "169.254.100.5", "networkLength": 30}
    run = Commands()
    return topo, run, wiring.Wiring(topo, "me", "rm-", POOL, "r1", run=run)


def test_the_namespace_gets_the_second_address_and_routes_through_the_router() -> None:
    topo, run, wire = wired()
    assert wire.up()
    ns = wire.names.netns
    assert ["ip", "-n", ns, "addr", "replace", "169.254.100.6/30", "dev",
            wire.names.inside] in run.argvs
    assert ["ip", "-n", ns, "route", "replace", "default", "via", "169.254.100.5"] in run.argvs
    assert topo.bound == [("me", wiring.port_id(POOL), wire.names.outside)]
    assert not any("add-port" in argv for argv in run.argvs)  # the agent plugs bound ports


def test_a_port_a_killed_agent_left_on_the_switch_goes_before_the_veth_is_made() -> None:
    _, run, wire = wired()
    assert wire.up()
    assert run.index("del-port", wire.names.outside) < run.index("veth")
    run.argvs.clear()
    wire.up()
    assert not any("del-port" in argv for argv in run.argvs)  # only the first time


def test_a_port_bound_here_already_is_not_bound_again() -> None:
    topo, _, wire = wired()
    wire.up()
    wire.up()
    assert len(topo.bound) == 1
