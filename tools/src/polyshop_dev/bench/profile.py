"""`make bench-profile`: where the shop's CPU goes at 50 orders/s.

    .venv/bin/python -m polyshop_dev.bench.profile [--seconds 20] [--rate 50]

A fresh benchmark shop (polyshop_dev.bench.stand) is warmed up, then loaded
at `--rate` orders/s through the gateway (open loop, every order in stock).
Meanwhile every Python piece is sampled by py-spy (each gunicorn worker
too), and every Node.js piece runs with `--cpu-prof`, written when it stops.
The CPU each piece used over the load, per order, comes from /proc, beside
what its profile says the time went to: by library, then by function (self
time, on CPU only). Writes docs/benchmarks/profile.md.

py-spy attaches from outside and reads the interpreter's memory, so the
Python pieces run unchanged; V8's sampler runs inside Node.js, at the cost
of a little CPU of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from polyshop_dev.bench import procs, stand
from polyshop_dev.bench.lag import LagProbe
from polyshop_dev.bench.report import machine
from polyshop_dev.bench.saga import run_phase
from polyshop_dev.bench.terminal import FinalEvents
from polyshop_dev.paths import ROOT, RUN
from polyshop_dev.stack import Piece, Running, Stack

REPORT = ROOT / "docs" / "benchmarks" / "profile.md"
KEPT = RUN / "profiles"  # the raw profiles and the pieces' logs of the latest run
PY_SPY = Path(sys.executable).with_name("py-spy")
SAMPLE_RATE = 200  # py-spy samples per second
TOP = 12  # functions shown per piece
NOT_PROFILED = {"kafka"}  # the broker is not the shop's code; its CPU is shown
NODE_IDLE = {"(idle)", "(program)", "(root)"}  # V8's pseudo-frames that are not work


@dataclass
class Profile:
    piece: str
    language: str
    cpu_seconds: float  # over the load, from /proc
    samples: Counter[tuple[str, str]]  # (library, function) -> on-CPU samples, self time

    def share(self, count: int) -> float:
        return count / max(sum(self.samples.values()), 1)

    def by_library(self) -> Counter[str]:
        libraries: Counter[str] = Counter()
        for (library, _function), count in self.samples.items():
            libraries[library] += count
        return libraries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=50)
    args = parser.parse_args()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="polyshop-profile-") as temp:
        folder = Path(temp)
        node_dir = folder / "cpuprof"
        node_dir.mkdir()
        profiles, orders, confirmed, window = profile_shop(
            folder, node_dir, args.rate, args.seconds
        )
        profiles += node_profiles(node_dir, profiles, window)
        shutil.rmtree(KEPT, ignore_errors=True)
        shutil.copytree(folder, KEPT, ignore=shutil.ignore_patterns("kafka", "data", "secrets"))
    REPORT.write_text(render(profiles, orders, confirmed, args, started))
    print(f"wrote {REPORT.relative_to(ROOT)}", flush=True)


def profile_shop(
    folder: Path, node_dir: Path, rate: float, seconds: float
) -> tuple[list[Profile], int, int, tuple[float, float]]:
    """The Python pieces' profiles, and placeholders for the Node ones
    (their CPU, with samples filled in once they have stopped); the load's
    start and end on the monotonic clock."""

    def start(stack: Stack, pieces: list[Piece]) -> list[Running]:
        return stack.start_together([with_cpu_prof(piece, node_dir) for piece in pieces])

    with stand.bench_shop(folder, start=start) as shop:
        tokens = stand.tokens(shop.gateway)
        probe = LagProbe(shop.bootstrap)
        try:
            with FinalEvents(shop.bootstrap) as finals:
                run_phase("warm-up", shop.gateway, tokens, 10, 3, finals, probe)
                groups = {name: r.pid for name, r in shop.stack.running.items()}
                languages = {name: language_of(pid) for name, pid in groups.items()}
                spies = {
                    name: spy(pid, folder / f"{name}.pyspy", seconds)
                    for name, pid in groups.items()
                    if languages[name] == "python"
                }
                before = {name: procs.cpu_seconds(pid) for name, pid in groups.items()}
                began = time.monotonic()
                phase = run_phase(f"{rate:g}/s", shop.gateway, tokens, rate, seconds, finals, probe)
                used = {n: procs.cpu_seconds(pid) - before[n] for n, pid in groups.items()}
                window = (began, time.monotonic())
                for name, process in spies.items():
                    if process.wait(timeout=seconds + 60) != 0:
                        print(f"py-spy of {name} failed: see {folder / name}.pyspy.log")
        finally:
            probe.close()
        node_pids = {name: pid for name, pid in groups.items() if languages[name] == "node"}
    orders = len(phase.accepted)
    confirmed = sum(1 for f in phase.finals.values() if f.type == "order.confirmed")
    profiles = [
        Profile(name, languages[name], used[name], python_samples(folder / f"{name}.pyspy"))
        for name in spies
    ]
    profiles += [Profile(name, "java", used[name], Counter()) for name in NOT_PROFILED]
    profiles += [
        Profile(name, f"node:{pid}", used[name], Counter()) for name, pid in node_pids.items()
    ]
    return profiles, orders, confirmed, window


def with_cpu_prof(piece: Piece, node_dir: Path) -> Piece:
    """A Node.js piece started with V8's profiler on (a flag NODE_OPTIONS
    does not allow); any other piece as it is."""
    node, *rest = piece.command
    if Path(node).name != "node":
        return piece
    return replace(piece, command=[node, "--cpu-prof", f"--cpu-prof-dir={node_dir}", *rest])


def language_of(pid: int) -> str:
    command = " ".join(procs.cmdline(pid))
    if "node" in Path(procs.cmdline(pid)[0]).name:
        return "node"
    return "java" if "java" in command else "python"


def spy(pid: int, output: Path, seconds: float) -> subprocess.Popen:
    """py-spy sampling a gunicorn master and its workers (or one process)
    for `seconds`, on-CPU stacks only, written as collapsed stacks."""
    log = output.with_suffix(".pyspy.log").open("w")
    return subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            "--gil",
            "--rate",
            str(SAMPLE_RATE),
            "--duration",
            str(round(seconds)),
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def python_samples(path: Path) -> Counter[tuple[str, str]]:
    """Self time by (library, function) from py-spy's collapsed stacks:
    `frame;frame;... count`, each frame `function (file:line)`."""
    samples: Counter[tuple[str, str]] = Counter()
    if not path.exists():
        return samples
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rpartition(";")[2]
        function, _, where = leaf.partition(" (")
        file = where.rstrip(")").rpartition(":")[0]
        samples[(python_library(file), f"{function} ({short_path(file)})")] += int(count)
    return samples


def python_library(file: str) -> str:
    """The package a frame's file belongs to: the top folder under
    site-packages, the standard library module, or the project's package."""
    path = Path(file)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if "src" in parts:
        return parts[parts.index("src") + 1].removesuffix(".py")
    if path.is_absolute():
        return f"stdlib {path.stem if path.parent.name.startswith('python3') else path.parent.name}"
    return file or "?"


def short_path(file: str) -> str:
    parts = Path(file).parts
    for anchor in ("site-packages", "src"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) + 1 :])
    return Path(file).name


def node_profiles(
    node_dir: Path, placeholders: list[Profile], window: tuple[float, float]
) -> list[Profile]:
    """Fill each Node.js piece's samples from the .cpuprofile its process
    wrote when it stopped (named after its pid), those of the load only."""
    found = []
    for profile in [p for p in placeholders if p.language.startswith("node:")]:
        pid = profile.language.partition(":")[2]
        profile.language = "node"
        # One file per thread: the main one, and the loader hooks' thread
        # that OpenTelemetry's ESM instrumentation starts.
        for file in node_dir.glob(f"CPU.*.{pid}.*.cpuprofile"):
            profile.samples += node_samples(json.loads(file.read_text()), window)
        found.append(profile)
    placeholders[:] = [p for p in placeholders if p not in found]
    return found


def node_samples(cpuprofile: dict, window: tuple[float, float]) -> Counter[tuple[str, str]]:
    """Self time by (library, function): V8 counts a sample for the node
    (frame) running at that moment. Its times are microseconds of the same
    monotonic clock as Python's, so start-up and shut-down are left out."""
    nodes = {node["id"]: node["callFrame"] for node in cpuprofile["nodes"]}
    start, end = (moment * 1e6 for moment in window)
    at = cpuprofile["startTime"]
    in_window: Counter[int] = Counter()
    for node_id, delta in zip(cpuprofile["samples"], cpuprofile["timeDeltas"], strict=True):
        at += delta
        if start <= at <= end:
            in_window[node_id] += 1
    samples: Counter[tuple[str, str]] = Counter()
    for node_id, count in in_window.items():
        frame = nodes[node_id]
        name = frame["functionName"] or "(anonymous)"
        if name in NODE_IDLE:
            continue
        url = frame.get("url", "")
        where = f"{short_url(url)}:{frame.get('lineNumber', 0) + 1}" if url else "native"
        samples[(node_library(url, name), f"{name} ({where})")] += count
    return samples


def node_library(url: str, name: str) -> str:
    if not url:
        return "V8 " + ("garbage collector" if name == "(garbage collector)" else "native")
    if url.startswith("node:"):
        return "node " + url.removeprefix("node:").split("/")[0]
    parts = url.removeprefix("file://").split("/")
    if "node_modules" in parts:
        rest = parts[len(parts) - parts[::-1].index("node_modules") :]
        return "/".join(rest[:2]) if rest[0].startswith("@") else rest[0]
    if "node-services" in parts:
        return parts[parts.index("node-services") + 1]
    return parts[-1]


def short_url(url: str) -> str:
    parts = url.removeprefix("file://").split("/")
    for anchor in ("node_modules", "node-services"):
        if anchor in parts:
            return "/".join(parts[len(parts) - parts[::-1].index(anchor) :])
    return url.removeprefix("node:")


def render(
    profiles: list[Profile], orders: int, confirmed: int, args: argparse.Namespace, started
) -> str:
    total = sum(p.cpu_seconds for p in profiles)
    ranked = sorted(profiles, key=lambda p: -p.cpu_seconds)
    lines = [
        "# Where the CPU goes: profiles of the shop under load",
        "",
        f"Latest run: {started:%Y-%m-%d %H:%M} UTC, written by `make bench-profile` "
        f"(`.venv/bin/python -m polyshop_dev.bench.profile`). {machine()}",
        "",
        f"{orders:,} orders placed at {args.rate:g}/s for {args.seconds:g} s through the gateway, "
        f"{confirmed:,} of them confirmed; every process of every piece used "
        f"{total:.1f} CPU s over the load, {per_order(total, orders)} ms per order, "
        f"{total / args.seconds:.0%} of one core (the machine has {os.cpu_count()}).",
        "",
        "## CPU by piece",
        "",
        "| piece | language | CPU ms per order | share of the shop | profile's biggest libraries |",
        "|---|---|---:|---:|---|",
    ]
    for p in ranked:
        libraries = ", ".join(
            f"{name} {p.share(count):.0%}" for name, count in p.by_library().most_common(5)
        )
        lines.append(
            f"| {p.piece} | {p.language} | {per_order(p.cpu_seconds, orders)} "
            f"| {p.cpu_seconds / max(total, 1e-9):.0%} | {libraries or 'not profiled'} |"
        )
    for p in ranked:
        if not p.samples:
            continue
        lines += [
            "",
            f"## {p.piece}: functions by self time",
            "",
            "| function | library | share |",
            "|---|---|---:|",
        ]
        for (library, function), count in p.samples.most_common(TOP):
            lines.append(f"| `{function}` | {library} | {p.share(count):.1%} |")
    lines += ["", *METHOD]
    return "\n".join(lines) + "\n"


def per_order(seconds: float, orders: int) -> str:
    return f"{seconds * 1000 / max(orders, 1):.2f}"


METHOD = [
    "## How it is measured",
    "",
    "- **CPU by piece**: user plus system time of every process of the piece's process "
    "group (gunicorn master and workers, Node.js, the JVM) from /proc, from the first order "
    "of the load to the moment every order is final and every consumer group has caught up, "
    "divided by the orders.",
    f"- **Python**: py-spy attached to each piece (`record --subprocesses --gil`, "
    f"{SAMPLE_RATE} samples/s) for the length of the load. It samples the thread that holds "
    "the interpreter lock: Python at work. Waiting is left out, and so is C code that lets "
    "the lock go while it runs (an SQLite statement, a socket call); the piece's CPU from "
    "/proc has both. A share is of the piece's samples.",
    "- **Node.js**: each process runs with `--cpu-prof` (V8's sampling profiler, written "
    "when the process stops); only the samples taken during the load count, and of those, "
    "`(idle)` and `(program)` are left out. A share is of the samples left.",
    "- *Self time* is the function on top of the stack when sampled: where the CPU is spent, "
    "not who asked for it. A library's share is the sum over its functions.",
    "- The raw profiles of the latest run are kept in `.run/profiles/`: the `.pyspy` files "
    "are collapsed stacks and the `.cpuprofile` files V8's own format, which flame-graph "
    "viewers such as speedscope and Chrome's DevTools open.",
]


if __name__ == "__main__":
    started_at = time.monotonic()
    main()
    print(f"took {time.monotonic() - started_at:.0f} s")
