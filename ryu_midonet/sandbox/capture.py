"""tcpdump inside a namespace, as a context manager that yields the captured lines.

    with Capture(sb.underlay_netns, "br-ul", "udp port 6677") as cap:
        vm1.ping(vm2.ip)
    assert any("6677" in line for line in cap.lines)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from types import TracebackType

from ryu_midonet.sandbox import procs

READY_TIMEOUT = 10.0


class Capture:
    """Capture packets on ``iface`` of namespace ``netns`` matching a BPF ``expression``.

    ``decode`` forces tcpdump's decoding of UDP payloads (``vxlan`` for VXLAN on a port other
    than 4789, which shows the VNI and the inner frame).
    """

    def __init__(self, netns: str | None, iface: str, expression: str = "",
                 workdir: Path | None = None, decode: str | None = None) -> None:
        self.netns = netns
        self.iface = iface
        self.expression = expression
        self.decode = decode
        self._dir = Path(tempfile.mkdtemp(prefix="capture-", dir=workdir))
        self._out = self._dir / "tcpdump.out"
        self._err = self._dir / "tcpdump.err"
        self._rec: procs.ProcessRecord | None = None
        self.lines: list[str] = []

    def start(self) -> Capture:
        argv = ["tcpdump", "-nn", "-l", "-e", "-i", self.iface]
        if self.decode:
            argv += ["-T", self.decode]
        argv += self.expression.split()
        proc, self._rec = procs.spawn("tcpdump", argv, log=self._err,
                                      pidfile=self._dir / "tcpdump.pid", cwd=self._dir,
                                      netns=self.netns, stdout=self._out)
        self._proc = proc
        deadline = time.monotonic() + READY_TIMEOUT
        while "listening on" not in self._err.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tcpdump did not start: {self._err.read_text()}")
            time.sleep(0.02)
        return self

    def stop(self) -> list[str]:
        """Stop tcpdump (by PID) and return the packets it printed, one line each."""
        if self._rec is not None:
            time.sleep(0.1)  # let the last packets through the capture buffer
            procs.stop_all([self._rec], children={self._rec.pid: self._proc})
            self._rec = None
        text = self._out.read_text(errors="replace")
        self.lines = [line for line in text.splitlines() if line.strip()]
        return self.lines

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
