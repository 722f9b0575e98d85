"""Removing a sandbox: from its state file (``down``) or from what a crash left (``clean``).

Processes are only ever stopped by PID: the PIDs the state file recorded (checked against their
start time), PIDs in pid files under a run directory whose process still refers to that
directory, and the processes running inside a namespace that carries the sandbox prefix.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from ryu_midonet.sandbox import netns, procs
from ryu_midonet.sandbox.config import DEFAULT_PREFIX
from ryu_midonet.sandbox.state import DEFAULT_RUN_DIR, State, registered, unregister

LOG = logging.getLogger(__name__)


def teardown(st: State, children: Mapping[int, subprocess.Popen[bytes]] | None = None) -> None:
    """Stop everything ``st`` records, remove its namespaces and its root-namespace link (the
    store's veth, in sentinel mode), forget the run.

    The other veth pairs go with their namespaces.
    """
    agents = [p for p in st.processes if p.name.startswith("agent-")]
    in_ns = [p for p in st.processes if p.netns and p not in agents]
    root = [p for p in st.processes if not p.netns]
    for group in (agents, in_ns, root):
        procs.stop_all(group, children=children)
    # what an agent killed without a chance to stop it left (a bgpd in a namespace of its own)
    procs.stop_pids(_stale_pids(st.run_dir))
    existing = set(netns.list_netns())
    names = [ns for ns in reversed(st.namespaces) if ns in existing]
    procs.stop_pids(pid for ns in names for pid in netns.pids(ns))
    link = st.facts.get("store_link")
    if link:
        netns.delete_link(str(link))
    for ns in names:
        netns.delete(ns)
    for path in (st.run_dir / "redis.sock",):
        path.unlink(missing_ok=True)
    st.remove()


def down(run_dir: Path,
         children: Mapping[int, subprocess.Popen[bytes]] | None = None) -> bool:
    """Tear down the sandbox whose state is in ``run_dir``; False when none is there."""
    st = State.load(run_dir)
    if st is None:
        return False
    teardown(st, children)
    return True


def clean(prefix: str = DEFAULT_PREFIX, run_dirs: Iterable[Path] = ()) -> list[str]:
    """Remove every trace of sandboxes with ``prefix``; returns what was removed.

    Looks at the default run directory, every registered one and ``run_dirs``: a state file
    there (of a sandbox with this prefix) is torn down; with no state file, the processes of
    its pid files that still refer to the directory are stopped. Then every namespace and
    root-namespace link whose name starts with ``prefix`` goes, with the processes inside.
    """
    done: list[str] = []
    dirs = {DEFAULT_RUN_DIR, *registered(), *(Path(d).resolve() for d in run_dirs)}
    for run_dir in sorted(dirs):
        try:
            st = State.load(run_dir)
        except RuntimeError as exc:
            LOG.warning("%s", exc)
            st = None
        if st is not None:
            if not str(st.config.get("prefix", DEFAULT_PREFIX)).startswith(prefix):
                continue  # another prefix's sandbox
            teardown(st)
            done.append(f"sandbox in {run_dir}")
        for pid in _stale_pids(run_dir):
            procs.stop_pids([pid])
            done.append(f"process {pid} of {run_dir}")
        unregister(run_dir)
    for ns in netns.list_netns(prefix):
        procs.stop_pids(netns.pids(ns))
        netns.delete(ns)
        done.append(f"namespace {ns}")
    for link in netns.links(None, prefix):
        netns.delete_link(link)
        done.append(f"link {link}")
    return done


OWNER = "owner"  # facts key: the process whose lifetime the sandbox shares (tests)


def owner_fact() -> dict[str, int | None]:
    """The ``owner`` fact of a sandbox that lives only as long as this process."""
    pid = os.getpid()
    return {"pid": pid, "start": procs.start_time(pid)}


def orphaned(st: State) -> bool:
    """True for a sandbox whose owning process (a test run) is gone: nothing will take it down."""
    owner = st.facts.get(OWNER)
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return False  # made by 'up' from the command line: it outlives its maker
    return procs.start_time(owner["pid"]) != owner.get("start")


def clear_orphans(names: Iterable[str]) -> list[str]:
    """Tear down the orphaned sandboxes that hold any of the namespaces ``names``, and remove
    those of ``names`` that no sandbox records and nothing runs in; returns what went."""
    names = set(names)
    done: list[str] = []
    recorded: set[str] = set()
    for run_dir in registered():
        try:
            st = State.load(run_dir)
        except RuntimeError:
            continue
        if st is None:
            continue
        recorded |= set(st.namespaces)
        if names & set(st.namespaces) and orphaned(st):
            LOG.warning("removing the sandbox in %s: the run that made it is gone", run_dir)
            teardown(st)
            done.append(f"sandbox in {run_dir}")
    for ns in sorted(names - recorded):
        if netns.exists(ns) and not netns.pids(ns):
            LOG.warning("removing namespace %s: no sandbox records it and nothing runs in it", ns)
            netns.delete(ns)
            done.append(f"namespace {ns}")
    return done


def _stale_pids(run_dir: Path) -> list[int]:
    """PIDs from pid files under ``run_dir`` whose process still belongs to that run."""
    if not run_dir.is_dir():
        return []
    found = []
    for pidfile in run_dir.rglob("*.pid"):
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            continue
        if procs.start_time(pid) is not None and _refers_to(pid, run_dir):
            found.append(pid)
        pidfile.unlink(missing_ok=True)
    return found


def _refers_to(pid: int, run_dir: Path) -> bool:
    """True when the process's command line or working directory lies in ``run_dir``."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return str(run_dir) in cmdline or Path(cwd).is_relative_to(run_dir)
