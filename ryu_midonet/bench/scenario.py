"""What a controller under test must provide to the runner."""

from __future__ import annotations

from pathlib import Path

from ryu_midonet.bench.layout import Case
from ryu_midonet.sandbox import Sandbox


class Scenario:
    """One controller programming the sandbox's switches.

    ``cases`` are the traffic cases it carries; ``change_cases`` those where a configuration
    change that blocks the destination (and its undoing) is timed through :meth:`block` and
    :meth:`unblock`. ``configured_cases`` are measured last, one at a time, each with the
    configuration :meth:`configure` puts in place for it and :meth:`unconfigure` removes
    (NAT, rule chains); they are compared with their ``baseline`` case of the same
    controller.
    """

    key = ""
    label = ""
    agent = "none"  # the sandbox's ``agent`` setting
    api = False  # whether the sandbox runs the REST API
    cases: tuple[Case, ...] = ()
    change_cases: tuple[Case, ...] = ()
    configured_cases: tuple[Case, ...] = ()
    # How :meth:`clear` makes the next packet a first packet, for the report.
    clear_note = ""
    change_note = ""

    def version(self) -> str:
        return ""

    def unavailable(self) -> str | None:
        """Why this controller cannot run here, checked before any sandbox is built."""
        return None

    def start(self, sb: Sandbox, run_dir: Path) -> None:
        """Program the sandbox (topology, configuration, processes) for every case."""

    def stop(self) -> None:
        """Stop whatever :meth:`start` started; safe to call when it started nothing."""

    def upcalls(self, sb: Sandbox) -> int | None:
        """Packets that missed the flow tables and went to the controller so far, on every
        host; None when unknown."""
        return None

    def clear(self, sb: Sandbox) -> None:
        """Forget every installed flow of the cases, so the next packet is a first packet."""
        flush_datapath(sb)

    def block(self, sb: Sandbox, case: Case) -> None:
        raise NotImplementedError

    def unblock(self, sb: Sandbox, case: Case) -> None:
        raise NotImplementedError

    def configure(self, sb: Sandbox, case: Case) -> None:
        raise NotImplementedError

    def unconfigure(self, sb: Sandbox, case: Case) -> None:
        raise NotImplementedError


def flush_datapath(sb: Sandbox) -> None:
    """Empty every host's datapath flow cache: the next packet of any flow is an upcall."""
    for host in sb.hosts.values():
        host.appctl("dpctl/del-flows")
