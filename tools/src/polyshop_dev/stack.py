"""Starting pieces of polyshop as processes, waiting until each is ready,
and stopping all of them: what `make up` and the end-to-end tests share.

Each piece runs in a session of its own, so stopping it signals its whole
process group (a gunicorn master and its workers, a JVM) and nothing
outlives the stack.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from polyshop_dev.paths import ROOT

STOP_TIMEOUT = 20.0  # seconds a piece has to stop gracefully before it is killed
# What every other piece talks to until it has stopped: the registry
# (deregistration) and the broker (leaving consumer groups, last events).
STOPPED_LAST = ("registry", "kafka")


class PieceFailed(RuntimeError):
    def __init__(self, name: str, reason: str, log_path: Path) -> None:
        tail = "\n".join(_tail(log_path, 15))
        super().__init__(f"{name} {reason}; its log is {log_path}\n{tail}")
        self.name = name
        self.log_path = log_path


@dataclass(frozen=True)
class Piece:
    name: str
    command: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    start_timeout: float = 60.0


@dataclass
class Running:
    piece: Piece
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Served:
    """A piece a test started on a port of its own: where it is, and its log."""

    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connect(self, timeout: float = 10) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


class Stack:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: dict[str, Running] = {}

    def start(self, piece: Piece) -> Running:
        running = self.launch(piece)
        self.wait_ready(running)
        return running

    def start_together(self, pieces: list[Piece]) -> list[Running]:
        """Pieces that do not wait for one another, launched at once, then
        each waited for: a shop's services are ready in the time of the
        slowest of them, not of all of them in turn."""
        launched = [self.launch(piece) for piece in pieces]
        for running in launched:
            self.wait_ready(running)
        return launched

    def launch(self, piece: Piece) -> Running:
        """The piece's process, started; not yet ready (see `wait_ready`)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{piece.name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                piece.command,
                cwd=ROOT,
                env={**os.environ, **piece.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        running = Running(piece, process, log_path)
        self.running[piece.name] = running
        return running

    def stop(
        self, name: str, timeout: float = STOP_TIMEOUT, sig: int = signal.SIGTERM
    ) -> int | None:
        running = self.running.pop(name, None)
        if running is None:
            return None
        return _stop_group(running.process, timeout, sig)

    def stop_all(self) -> None:
        """Stop every piece: the services and the gateway all at once, each
        shutting down gracefully on its own, then the registry and the broker
        they leave last (deregistering, leaving their consumer groups).

        One after another, a shop of ten pieces took 40 s to stop; at once,
        the slowest piece's few seconds."""
        names = list(reversed(list(self.running)))
        last = [name for name in names if name in STOPPED_LAST]
        first = [self.running.pop(name) for name in names if name not in last]
        for running in first:
            _signal_group(running.pid, signal.SIGTERM)
        for running in first:
            _reap(running.process, STOP_TIMEOUT)
        for name in last:
            self.stop(name)

    def exited(self) -> list[Running]:
        return [r for r in self.running.values() if r.process.poll() is not None]

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_all()

    def wait_ready(self, running: Running) -> None:
        piece = running.piece
        deadline = time.monotonic() + piece.start_timeout
        while not piece.ready():
            if running.process.poll() is not None:
                self.running.pop(piece.name)
                raise PieceFailed(piece.name, "exited while starting", running.log_path)
            if time.monotonic() > deadline:
                self.stop(piece.name)
                raise PieceFailed(
                    piece.name,
                    f"was not ready within {piece.start_timeout:.0f} s",
                    running.log_path,
                )
            time.sleep(0.1)


def http_ok(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return requests.get(url, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    return probe


def _stop_group(process: subprocess.Popen, timeout: float, sig: int) -> int:
    _signal_group(process.pid, sig)
    return _reap(process, timeout)


def _reap(process: subprocess.Popen, timeout: float) -> int:
    """Wait for a signalled piece; kill it if it outlasts `timeout`."""
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        code = process.wait()
    # Whatever the leader left behind in its group goes with it.
    _signal_group(process.pid, signal.SIGKILL)
    return code


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _tail(path: Path, lines: int) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []
