"""What the bench sections that run a sandbox of their own, or run alone, share."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ryu_midonet.sandbox import Sandbox, netns, procs
from ryu_midonet.sandbox.state import State

R = TypeVar("R")


def one_host_sandbox(name: str, octet: int, vms: Sequence[str]) -> dict[str, Any]:
    """A sandbox of one host and ``vms`` on one network (underlay ``10.<octet>.0.0/24``,
    VM addresses ``10.<octet>.5.<n>/24``)."""
    return {
        "name": name,
        "tunnel": "vxlan",
        "underlay": {"cidr": f"10.{octet}.0.0/24"},
        "hosts": [{"name": "h1", "underlay_ip": f"10.{octet}.0.1"}],
        "vms": [{"name": vm, "host": "h1", "interface": f"rm-{vm}-tap",
                 "ip": f"10.{octet}.5.{n}/24", "mac": f"02:00:00:00:{octet}:0{n}"}
                for n, vm in enumerate(vms, start=1)],
        "api": False,
        "agent": "default",
    }


def run_alone(prefix: str, measure: Callable[[Path], R], table: Callable[[R], str],
              ok: Callable[[R], bool]) -> int:
    """Measure a section in a temporary directory and print its table; 0 if ``ok``."""
    with tempfile.TemporaryDirectory(prefix=prefix) as work:
        result = measure(Path(work))
    print(table(result))
    return 0 if ok(result) else 1


def remove_leftovers(run_dir: Path, prefix: str) -> None:
    """Take down what an interrupted earlier run left: its sandbox, then its namespaces
    (those named ``prefix``...)."""
    try:
        if State.load(run_dir) is not None:
            Sandbox.attach(run_dir).down()
    except RuntimeError:
        pass
    for ns in netns.list_netns(prefix):
        procs.stop_pids(netns.pids(ns))
        netns.delete(ns)
