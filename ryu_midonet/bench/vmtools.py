"""Small programs run inside the VMs with the system python3, and the processes they become.

Every program bounds its own running time, prints one JSON document (or ``ready`` first, for
servers) and exits; whatever is still running when a measurement ends is stopped by PID.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from ryu_midonet.sandbox import Vm
from ryu_midonet.sandbox.shell import in_netns

TCP_SERVER = r"""
import socket, sys, time
port, count, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", port))
srv.listen(128)
print("ready", flush=True)
deadline = time.monotonic() + limit
served = 0
while served < count and time.monotonic() < deadline:
    srv.settimeout(max(0.05, deadline - time.monotonic()))
    try:
        conn, _ = srv.accept()
    except OSError:
        break
    with conn:
        conn.settimeout(2)
        try:
            if conn.recv(1):
                conn.sendall(b"y")
        except OSError:
            pass
    served += 1
print(served, flush=True)
"""

TCP_CLIENT = r"""
import json, socket, sys, time
host, port, seconds, most = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
def once():
    with socket.create_connection((host, port), timeout=2) as s:
        s.sendall(b"x")
        return s.recv(1) == b"y"
warm = time.monotonic() + 5
warmup = 0
while True:
    warmup += 1
    try:
        if once():
            break
    except OSError:
        pass
    if time.monotonic() > warm:
        print(json.dumps({"error": "no connection within 5 s"}))
        sys.exit(0)
    time.sleep(0.05)
done = failed = 0
start = time.perf_counter()
deadline = start + seconds
while done + failed < most and time.perf_counter() < deadline:
    try:
        ok = once()
    except OSError:
        ok = False
    done += ok
    failed += not ok
print(json.dumps({"done": done, "failed": failed, "elapsed": time.perf_counter() - start,
                  "warmup": warmup}))
"""

# One connection to argv[1]:argv[2] and a 1-byte exchange (TCP_SERVER's), timed in ms from
# connect() to the answer; no retry: a lost first packet shows as the retransmission's delay.
ONE_CONNECTION = r"""
import json, socket, sys, time
start = time.perf_counter()
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as s:
        s.sendall(b"x")
        ok = s.recv(1) == b"y"
except OSError as exc:
    print(json.dumps({"error": str(exc) or type(exc).__name__}))
    sys.exit(0)
ms = (time.perf_counter() - start) * 1000
print(json.dumps({"ms": ms} if ok else {"error": "no answer"}))
"""

# Answers every connection with the address it came from, as text.
PEER_SERVER = r"""
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", port))
srv.listen(16)
print("ready", flush=True)
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    srv.settimeout(max(0.05, deadline - time.monotonic()))
    try:
        conn, peer = srv.accept()
    except OSError:
        break
    with conn:
        try:
            conn.sendall(peer[0].encode())
        except OSError:
            pass
"""

# Connects until the server reports the expected source address, or the time is up.
PEER_CLIENT = r"""
import json, socket, sys, time
host, port, want, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
deadline = time.monotonic() + limit
tries, last = 0, "no attempt"
while time.monotonic() < deadline:
    tries += 1
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.settimeout(1)
            seen = s.recv(64).decode()
        if seen == want:
            print(json.dumps({"tries": tries}))
            sys.exit(0)
        last = "the server saw the connection come from " + seen
    except OSError as exc:
        last = str(exc) or type(exc).__name__
    time.sleep(0.1)
print(json.dumps({"error": last, "tries": tries}))
"""

ICMP_PROBER = r"""
import json, os, select, socket, struct, sys, time
dst, interval, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.setblocking(False)
ident = os.getpid() & 0xFFFF
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF
sent, replies = [], {}
def drain():
    while True:
        try:
            data = sock.recv(2048)
        except BlockingIOError:
            return
        head = (data[0] & 0x0F) * 4
        kind, _, _, pid, seq = struct.unpack("!BBHHH", data[head:head + 8])
        if kind == 0 and pid == ident and seq not in replies:
            replies[seq] = time.time()
now = time.monotonic()
due, end = now, now + duration
while now < end:
    if now >= due:
        seq = len(sent)
        head = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"rm-bench"
        packet = struct.pack("!BBHHH", 8, 0, checksum(head), ident, seq) + b"rm-bench"
        sent.append(time.time())
        try:
            sock.sendto(packet, (dst, 0))
        except OSError:
            pass
        due = max(due + interval, now)
    select.select([sock], [], [], max(0.0, min(due, end) - time.monotonic()))
    drain()
    now = time.monotonic()
grace = time.monotonic() + 0.5
while time.monotonic() < grace:
    select.select([sock], [], [], 0.05)
    drain()
print(json.dumps({"sent": sent, "answered": sorted(replies)}))
"""


def system_python() -> str:
    """The machine's own python3: VMs run plain standard-library scripts."""
    if Path("/usr/bin/python3").exists():
        return "/usr/bin/python3"
    return shutil.which("python3") or "python3"


def run_json(vm: Vm, script: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run a script in a VM and parse the JSON document it prints last."""
    proc = vm.exec([system_python(), "-c", script, *args], timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{vm.name}: script exited {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout).strip()[-300:]}")
    return dict(json.loads(lines[-1]))


class Background:
    """A program running inside a VM namespace until it ends or is stopped by its PID."""

    def __init__(self, vm: Vm, argv: list[str]) -> None:
        self.name = f"{vm.name}: {argv[0]}"
        # ``ip netns exec`` execs the program in place: the PID is the program's own.
        self.proc = subprocess.Popen(in_netns(vm.netns, argv), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)

    @classmethod
    def script(cls, vm: Vm, script: str, args: list[str]) -> Background:
        return cls(vm, [system_python(), "-c", script, *args])

    def wait_line(self, timeout: float) -> str:
        """The next line of standard output, waiting at most ``timeout`` seconds."""
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"{self.name} printed nothing within {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} exited: {self.stderr_tail()}")
        return line.strip()

    def communicate(self, timeout: float) -> str:
        """Wait for the end (stopping the program at ``timeout``); its standard output."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
            return out
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError(f"{self.name} did not finish within {timeout:.0f} s") from None

    def stderr_tail(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read().strip()[-300:]

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s, always by this process's own PID."""
        if self.proc.poll() is None:
            for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
                try:
                    os.kill(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + grace
                while self.proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.02)
                if self.proc.poll() is not None:
                    break
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        self.proc.wait()

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
