"""The benchmark's Markdown report: the targets first, then every measurement."""

from __future__ import annotations

import json
import platform
import subprocess
from collections import Counter
from pathlib import Path

from polyshop_dev.bench import method
from polyshop_dev.bench.checks import GIB, checks
from polyshop_dev.bench.openloop import NO_ANSWER, percentile
from polyshop_dev.bench.procs import Footprint, total
from polyshop_dev.bench.results import Results
from polyshop_dev.bench.saga import SOAK

MIB = 1024  # KiB in a MiB
# Written by hand, from this report and the profiles: kept beside the reports.
GAPS = "What stands in the way of each target not met, and by how much: [gaps.md](gaps.md)."


def write_report(path: Path, results: Results) -> str:
    lines = [
        "# Shop benchmark: load and footprint",
        "",
        f"Latest run: {results.began:%Y-%m-%d %H:%M} UTC, {results.seconds / 60:.1f} minutes, "
        "written by `make bench-shop` (`.venv/bin/python -m polyshop_dev.bench`).",
        f"Machine: {machine()}. Load average when the run began: "
        + " / ".join(f"{x:.2f}" for x in results.loadavg)
        + " (1, 5, 15 minutes): the machine was shared with other work.",
        "",
        "## Against the targets",
        "",
        "| figure | measured | target | met |",
        "|---|---:|---:|---|",
        *(_check_row(check) for check in checks(results)),
        "",
        *_gaps(check.met is False for check in checks(results)),
        *_phases(results),
        *_stages(results),
        *_memory(results),
        *_startup(results),
        *_registry(results),
        *method.NOTES,
    ]
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def _gaps(not_met) -> list[str]:
    return [GAPS, ""] if any(not_met) else []


def _check_row(check) -> str:
    met = {True: "met", False: "**not met**", None: "no target"}[check.met]
    if check.shortfall:
        met += f": {check.shortfall}"
    return f"| {check.figure} | {check.value} | {check.target} | {met} |"


def _ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:,.0f}"


def _phases(results: Results) -> list[str]:
    lines = [
        "## The saga under open-loop load",
        "",
        "Latencies in ms. *POST*: from the moment the request was due to its `202`. "
        "*final*: from the same moment to the order's final event's `time`; "
        "*seen*: to that event's arrival at a reader of the `orders` topic. *No answer*: "
        "no HTTP answer within 30 s; *not sent*: due while 2,000 requests were already "
        "waiting, so the generator skipped it.",
        "",
        "| load | orders | 202 | HTTP error | no answer | not sent | POST p50 | POST p99 "
        "| final p50 | final p99 | confirmed: n, p50, p99 | cancelled: n, p50, p99 | seen p99 "
        "| peak lag | lag 0 after | lost | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for p in results.phases:
        run = p.run
        post = run.latencies(202)
        kinds = []
        for kind in ("order.confirmed", "order.cancelled"):
            values = p.final_latencies(kind)
            kinds.append(
                f"{len(values):,}, {_ms(percentile(values, 50))}, {_ms(percentile(values, 99))}"
            )
        drained = "not in 60 s" if p.drained_after is None else f"{p.drained_after:.1f} s"
        lines.append(
            f"| {p.name} ({run.rate:g}/s x {run.seconds:g} s) | {run.planned:,} "
            f"| {run.count(202):,} | {len(run.outcomes) - run.count(202, NO_ANSWER)} "
            f"| {run.count(NO_ANSWER)} | {run.dropped} "
            f"| {_ms(percentile(post, 50))} | {_ms(percentile(post, 99))} "
            f"| {_ms(p.final_p(50))} | {_ms(p.final_p(99))} | {kinds[0]} | {kinds[1]} "
            f"| {_ms(percentile(p.final_latencies(received=True), 99))} | {p.peak_lag:,} "
            f"| {drained} | {len(p.missing)} | {p.loadavg[0]:.2f} |"
        )
    errors = Counter(
        _error_kind(o.value) for p in results.phases for o in p.run.outcomes if o.status != 202
    )
    if errors:
        lines += ["", "What came instead of a 202:", ""]
        lines += [f"- {count:,} x {kind}" for kind, count in errors.most_common(6)]
    return [*lines, ""]


def _stages(results: Results) -> list[str]:
    loaded = [p for p in results.phases if p.name != "warm-up" and p.stages]
    if not loaded:
        return []
    lines = [
        "## Where the time goes, hop by hop",
        "",
        "From the events' own moments (see `polyshop_dev/bench/stages.py`): each event's "
        "`time` is stamped in the transaction of its change, its Kafka timestamp when the "
        "outbox relay handed it over. A *consumer* stage runs from the previous event's "
        "publish to the next change (fetch, validation, handler, commit); a *relay* stage "
        "from a change to its publish. An order cancelled at inventory skips the payment. "
        "p50 / p99 in ms, and how many orders passed the stage.",
        "",
        "| stage | " + " | ".join(f"{p.name}: n, p50, p99" for p in loaded) + " |",
        "|---|" + "---|" * len(loaded),
    ]
    for stage in loaded[0].stages:
        cells = []
        for phase in loaded:
            values = phase.stages.get(stage, [])
            p50, p99 = percentile(values, 50), percentile(values, 99)
            cells.append(f"{len(values):,}, {_ms(p50)}, {_ms(p99)}")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _error_kind(value: str) -> str:
    """A problem answer by its status and detail; a client error by its name."""
    try:
        problem = json.loads(value)
        return f"{problem['status']} {problem.get('detail', problem.get('title', ''))}"
    except (ValueError, KeyError, TypeError):
        return value.split(":")[0][:80] or "no answer"


def _memory(results: Results) -> list[str]:
    idle = {f.name: f for f in (results.starts[-1].memory if results.starts else [])}
    lines = [
        "## Resident memory",
        "",
        "Every process of each piece (its whole process group), in MiB, measured right after "
        f"the last load above ({SOAK}); *idle* is the same piece just after the warm "
        "`make up` start.",
        "",
        "| piece | processes | RSS | PSS | idle RSS |",
        "|---|---:|---:|---:|---:|",
    ]
    whole_idle = total("total", list(idle.values())) if idle else None
    for footprint in [*results.memory, total("whole stack", results.memory)]:
        before = idle.get(footprint.name) or (
            whole_idle if footprint.name == "whole stack" else None
        )
        lines.append(_memory_row(footprint, before))
    return [*lines, ""]


def _memory_row(footprint: Footprint, idle: Footprint | None) -> str:
    pss = "-" if footprint.pss_kib is None else f"{footprint.pss_kib / MIB:,.0f}"
    before = "-" if idle is None else f"{idle.rss_kib / MIB:,.0f}"
    return (
        f"| {footprint.name} | {footprint.processes} | {footprint.rss_kib / MIB:,.0f} "
        f"| {pss} | {before} |"
    )


def _startup(results: Results) -> list[str]:
    lines = ['## Start-up: `make up` until "polyshop is up"', ""]
    if not results.starts:
        return [*lines, f"Skipped: {results.startup_skipped}.", ""]
    names = list(results.starts[0].pieces)
    lines += [
        'Seconds; each piece\'s "ready in" as `make up` prints it, counted from the start '
        "of its group: Kafka, then the registry, then the services and the gateway at once.",
        "",
        "| start | total | " + " | ".join(names) + " | stopped by Ctrl-C | left behind |",
        "|---|---:|" + "---:|" * len(names) + "---|---:|",
    ]
    for start in results.starts:
        seconds = "-" if start.seconds is None else f"{start.seconds:.1f}"
        cells = " | ".join(f"{start.pieces.get(n, float('nan')):.1f}" for n in names)
        lines.append(
            f"| {start.kind} | {seconds} | {cells} | {'yes' if start.stopped_cleanly else 'no'} "
            f"| {len(start.left_behind)} |"
        )
    return [*lines, ""]


def _registry(results: Results) -> list[str]:
    registry = results.registry
    lines = [
        "## Registry with 10,000 instances",
        "",
        f"{registry.registered:,} instances (100 services x 100) registered in "
        f"{registry.register_seconds:.1f} s ({registry.registered / registry.register_seconds:,.0f}"
        f"/s, 32 at a time); the registry then held {registry.memory.rss_kib / MIB:,.0f} MiB RSS "
        f"({registry.memory.processes} processes). Heartbeats in open-loop steps of "
        "6 s, round robin over the instances; CPU as a share of one core.",
        "",
        "| offered/s | answered 200/s | p50 ms | p99 ms | dropped | registry CPU | load "
        "generator CPU | load avg | sustained |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for step in registry.steps:
        run = step.run
        lines.append(
            f"| {run.rate:,.0f} | {run.achieved(200):,.0f} | {step.p50_ms:,.1f} "
            f"| {step.p99_ms:,.1f} | {run.dropped} | {step.registry_cpu:.0%} "
            f"| {step.client_cpu:.0%} | {step.loadavg:.2f} | {'yes' if step.sustained else 'no'} |"
        )
    return [*lines, ""]


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{cpu}, {cores} cores, {memory_kib / GIB:.0f} GiB; Python "
        f"{platform.python_version()}, Node.js {node}"
    )
