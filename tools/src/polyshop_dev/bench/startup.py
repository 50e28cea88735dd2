"""How long `make up` takes until "polyshop is up", cold and warm.

Cold: a fresh folder, so Kafka formats its storage and every service creates
and seeds its database. Warm: the same command again on the same folder.
Both run on the default ports `make up` uses; when one of them is taken
(a `make up` already running, say) the measurement is skipped, not forced.
Each run is stopped with SIGINT, as Ctrl-C would, and afterwards no process
of any piece may be left.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from polyshop_dev.bench import procs

DEFAULT_PORTS = (9092, 9093, 8761, 8080, 9464, 5001, 5002, 5003, 3001, 3002, 3003)
UP_LINE = "polyshop is up"
READY_LINE = re.compile(r"^\s+(\S+)\s+ready in ([\d.]+) s")
START_TIMEOUT = 180.0
STOP_TIMEOUT = 90.0


@dataclass
class Start:
    kind: str  # "cold" or "warm"
    seconds: float | None = None  # None: never came up
    pieces: dict[str, float] = field(default_factory=dict)  # piece → its "ready in" seconds
    memory: list[procs.Footprint] = field(default_factory=list)  # idle, right after start
    stopped_cleanly: bool = False
    left_behind: list[int] = field(default_factory=list)


def busy_ports() -> list[int]:
    busy = []
    for port in DEFAULT_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                busy.append(port)
    return busy


def measure(folder: Path) -> list[Start]:
    return [time_start("cold", folder), time_start("warm", folder)]


def time_start(kind: str, folder: Path) -> Start:
    unset = ("KAFKA_BOOTSTRAP_SERVERS", "REGISTRY_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["DATA_DIR"] = str(folder / "data")
    began = time.monotonic()
    up = subprocess.Popen(
        [sys.executable, "-m", "polyshop_dev.bench.run_up", str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    lines = _reader(up)
    start = Start(kind)
    deadline = began + START_TIMEOUT
    while time.monotonic() < deadline and up.poll() is None:
        try:
            at, line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if ready := READY_LINE.match(line):
            start.pieces[ready.group(1)] = float(ready.group(2))
        if line.startswith(UP_LINE):
            start.seconds = at - began
            break
    pieces = procs.children(up.pid)
    if start.seconds is not None:
        start.memory = [procs.footprint(_piece_name(pid), pid) for pid in pieces]
    _stop(up, start, pieces)
    print(f"start-up ({kind}): {_describe(start)}", flush=True)
    return start


def _piece_name(pid: int) -> str:
    """Which piece a process of `make up` is, from its command line."""
    command = procs.cmdline(pid)
    if "kafka.Kafka" in command:
        return "kafka"
    for word in command:
        if word.endswith(".wsgi:app"):
            return word.removesuffix(".wsgi:app")
        if word.endswith("/src/server.js"):
            return Path(word).parents[1].name
    return " ".join(command)[:40]


def _reader(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put((time.monotonic(), line))

    threading.Thread(target=read, name="up-output", daemon=True).start()
    return lines


def _stop(up: subprocess.Popen, start: Start, pieces: list[int]) -> None:
    """Ctrl-C, as a person would; then check that every piece's process
    group is gone, and end (by group id) whatever was left."""
    if up.poll() is None:
        os.kill(up.pid, signal.SIGINT)
    try:
        up.wait(STOP_TIMEOUT)
        start.stopped_cleanly = True
    except subprocess.TimeoutExpired:
        os.killpg(up.pid, signal.SIGKILL)
        up.wait()
    for pgid in pieces:
        members = procs.group_members(pgid)
        if members:
            start.left_behind += members
            os.killpg(pgid, signal.SIGKILL)


def _describe(start: Start) -> str:
    if start.seconds is None:
        return "did not come up"
    left = f", LEFT BEHIND: {start.left_behind}" if start.left_behind else ", nothing left behind"
    return f"up in {start.seconds:.1f} s" + left
