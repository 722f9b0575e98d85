"""What a running sandbox made, kept in ``<run_dir>/sandbox.json`` so any process can tear it down.

The file is rewritten (atomically) before each namespace is created and after each process
starts, so even a crashed ``up`` leaves an exact list of what to remove. Every run directory
is also registered under :data:`REGISTRY` (a symlink per run) so ``clean`` finds runs whose
directory nobody remembers.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ryu_midonet.sandbox.procs import ProcessRecord

STATE_FILE = "sandbox.json"
BASE = Path("/run/ryu-midonet-sandbox")
REGISTRY = Path(os.environ.get("RYU_MIDONET_SANDBOX_REGISTRY", BASE / "runs"))
DEFAULT_RUN_DIR = Path(os.environ.get("RYU_MIDONET_SANDBOX_DIR", BASE / "default"))


@dataclass
class State:
    """Namespaces and processes of one sandbox, plus its runtime facts (ports, host ids)."""

    run_dir: Path
    config: dict[str, Any] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)
    processes: list[ProcessRecord] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.run_dir / STATE_FILE

    def add_namespace(self, name: str) -> None:
        self.namespaces.append(name)
        self.save()

    def add_process(self, rec: ProcessRecord) -> None:
        self.processes.append(rec)
        self.save()

    def put_process(self, rec: ProcessRecord) -> None:
        """Record a process in place of any earlier one of the same name and namespace (a
        part that was started again)."""
        self.processes = [p for p in self.processes
                          if (p.name, p.netns) != (rec.name, rec.netns)] + [rec]
        self.save()

    def save(self) -> None:
        data = {"config": self.config, "namespaces": self.namespaces,
                "processes": [p.to_dict() for p in self.processes], "facts": self.facts}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, default=str) + "\n")
        os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        unregister(self.run_dir)

    @classmethod
    def load(cls, run_dir: Path) -> State | None:
        """The state a sandbox left in ``run_dir``, or None when there is none."""
        path = run_dir / STATE_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise RuntimeError(f"{path} is damaged ({exc}); use 'clean'") from None
        return cls(run_dir, data.get("config", {}), list(data.get("namespaces", [])),
                   [ProcessRecord.from_dict(p) for p in data.get("processes", [])],
                   data.get("facts", {}))


def _key(run_dir: Path) -> str:
    return hashlib.sha1(str(run_dir).encode()).hexdigest()[:16]


def register(run_dir: Path) -> None:
    REGISTRY.mkdir(parents=True, exist_ok=True)
    link = REGISTRY / _key(run_dir)
    link.unlink(missing_ok=True)
    link.symlink_to(run_dir)


def unregister(run_dir: Path) -> None:
    (REGISTRY / _key(run_dir)).unlink(missing_ok=True)


def registered() -> list[Path]:
    """Run directories of sandboxes that were brought up and not taken down."""
    if not REGISTRY.is_dir():
        return []
    return sorted(Path(os.readlink(link)) for link in REGISTRY.iterdir() if link.is_symlink())

