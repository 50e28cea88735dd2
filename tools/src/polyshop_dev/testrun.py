"""`make test`: every test of polyshop against a real broker, then a summary.
`make check` (`--check`): the unit and integration tests of every package,
without a whole shop, the Node.js and Python suites side by side.

One broker (on spare ports, in a fresh folder) serves the whole run unless
KAFKA_BOOTSTRAP_SERVERS names one; it is stopped at the end, also when a
test fails or the run is interrupted. The run starts with the dependency
audit (polyshop_dev.audit); an audit that could not reach its vulnerability
data is shown as NOT DONE, which does not fail the run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from polyshop_dev import audit, kafka
from polyshop_dev.paths import ROOT, RUN
from polyshop_dev.pieces import BIN, free_port, kafka_piece
from polyshop_dev.stack import Stack

PYTEST_NO_TESTS = 5
LOGS = RUN / "test-logs"
AUDIT = "dependency audit"

STEPS = [
    # A few seconds, and its verdict is the first thing the run says.
    (AUDIT, [str(BIN / "python"), "-m", "polyshop_dev.audit"]),
    ("node unit tests", ["npm", "test", "--silent"]),
    ("node integration tests", ["npm", "run", "test:integration", "--silent"]),
    # Two workers: most of an end-to-end test is waiting for a saga or a
    # lease, so two of them share the two cores well (polyshop_dev.testing
    # keeps the tests of one shop on one worker).
    # The slowest steps are listed at the end: where the run's time goes.
    ("python tests", [str(BIN / "pytest"), "-n", "2", "--dist", "loadgroup", "--durations=30"]),
    # The shop in containers: a Docker engine, images, docker compose.
    ("container tests", ["bash", "tools/docker/test-containers.sh"]),
]


# `make check`: no end-to-end test, no container. The two languages run at
# once, each step's output kept apart and shown when it is done. (The
# Node.js runner runs three test files at a time, package.json says so: its
# default, one per core but one, is one file at a time here, and most of a
# test is waiting for the broker or a timer.)
CHECK_STEPS = [
    ("node unit tests", ["npm", "test", "--silent"]),
    ("node integration tests", ["npm", "run", "test:integration", "--silent"]),
]


def check_python() -> tuple[str, list[str]]:
    """pytest over the configured test folders but the end-to-end ones."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    folders = [path for path in config["ini_options"]["testpaths"] if path != "e2e-tests"]
    return "python unit and integration tests", [str(BIN / "pytest"), "-n", "2", "-q", *folders]


def run_step(name: str, command: list[str], env: dict[str, str]) -> tuple[str, int, float]:
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    began = time.monotonic()
    code = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}).returncode
    if code == PYTEST_NO_TESTS and "pytest" in command[0]:
        print("pytest collected no tests: that is a failure here", flush=True)
    return name, code, time.monotonic() - began


def outcome(name: str, code: int) -> str:
    if code == 0:
        return "ok"
    return "NOT DONE" if name == AUDIT and code == audit.NOT_DONE else "FAIL"


def start_broker(stack: Stack, data_dir: Path) -> str:
    port = free_port()
    began = time.monotonic()
    stack.start(kafka_piece(data_dir, port, free_port()))
    bootstrap = f"127.0.0.1:{port}"
    kafka.ensure_topics(bootstrap)
    print(f"Kafka for the tests is ready on {bootstrap} in {time.monotonic() - began:.1f} s")
    return bootstrap


def run_quietly(name: str, command: list[str], env: dict[str, str]) -> tuple[str, int, float]:
    """A step with its output in a file, printed whole once the step ends."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name.replace(' ', '-')}.log"
    began = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    print(f"\n=== {name}: {' '.join(command)}\n{log.read_text()}", flush=True)
    return name, code, time.monotonic() - began


def check(env: dict[str, str]) -> list[tuple[str, int, float]]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        python = pool.submit(run_quietly, *check_python(), env)
        node = [run_quietly(name, command, env) for name, command in CHECK_STEPS]
        return [*node, python.result()]


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    quick = sys.argv[1:] == ["--check"]
    RUN.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="test-", dir=RUN))
    shutil.rmtree(LOGS, ignore_errors=True)
    results = []
    try:
        with Stack(LOGS) as stack:
            bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or start_broker(
                stack, folder / "kafka"
            )
            env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}
            if quick:
                results = check(env)
            else:
                results = [run_step(name, command, env) for name, command in STEPS]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("\n=== summary")
    outcomes = [outcome(name, code) for name, code, _ in results]
    for (name, _, seconds), said in zip(results, outcomes, strict=True):
        print(f"  {said:<8} {name:<26} {seconds:6.1f} s")
    if "NOT DONE" in outcomes:
        print("  NOT DONE: no vulnerability data could be had; see the audit's output above")
    return 0 if results and "FAIL" not in outcomes else 1


if __name__ == "__main__":
    sys.exit(main())
