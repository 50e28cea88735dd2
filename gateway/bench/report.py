"""The benchmark's Markdown report: medians, every round, and the targets."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from wrk import Result, stable

from polyshop_dev.bench.report import GAPS

TARGETS = (
    "keeps >= 30% of direct throughput on a public route and >= 25% on an authenticated "
    "one, adds <= 1 ms p50 and <= 2 ms p99 at 1 connection"
)
KEPT = {"gateway": 0.30, "gateway, authenticated": 0.25}


def ratios(rounds, target: str) -> list[float]:
    """Throughput kept, round by round: the target's req/s over direct's in the same round."""
    pairs = zip(rounds[target]["c32"], rounds["direct"]["c32"], strict=True)
    return [through.rps / direct.rps for through, direct in pairs]


def checks(medians: dict[str, dict[str, Result]], rounds) -> list[tuple[str, str, bool]]:
    direct, gateway = medians["direct"], medians["gateway"]
    found = []
    for target, floor in KEPT.items():
        kept = medians[target]["c32"].rps / direct["c32"].rps
        each = ratios(rounds, target)
        spread = f"{kept:.1%} (rounds {min(each):.1%} to {max(each):.1%})"
        found.append((f"{target}: throughput kept (32 connections)", spread, kept >= floor))
    p50 = gateway["c1"].p50_ms - direct["c1"].p50_ms
    p99 = gateway["c1"].p99_ms - direct["c1"].p99_ms
    steady = all(stable(runs[kind]) for runs in rounds.values() for kind in ("c32", "c1"))
    return [
        *found,
        ("gateway: p50 added (1 connection)", f"{p50:+.2f} ms", p50 <= 1.0),
        ("gateway: p99 added (1 connection)", f"{p99:+.2f} ms", p99 <= 2.0),
        (
            "every round >= 0.8 x median throughput (32 and 1 connections)",
            "yes" if steady else "no",
            steady,
        ),
    ]


def write_report(path: Path, rounds, medians, args, reruns: list[str]) -> str:
    lines = [
        "# Gateway benchmark",
        "",
        f"Latest run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, written by "
        "`.venv/bin/python gateway/bench/run.py`. Machine: "
        f"{_cpu()} ({_cores()} cores), Python {platform.python_version()}.",
        "",
        "The same trivial upstream endpoint (a Flask app on gunicorn, 2 gthread workers) "
        "measured four ways, "
        f"{args.rounds} interleaved rounds of {args.seconds} s per run, medians shown. "
        "Gateway routes: no rate limit, no cache, access log on; *gateway* is a public "
        "route, *gateway, authenticated* one that needs a user's token, sent with every "
        "request and checked (EdDSA signature, issuer, audience, expiry) on every one. "
        f"Extra gateway gunicorn arguments: `{args.gateway_args or 'none'}`.",
        "",
        "A round in which any target fell below 0.8 x its median throughput is run again, "
        f"at most {args.reruns} times; rounds run again in this run: "
        + (f"{len(reruns)}: " + "; ".join(reruns) if reruns else "none")
        + ". The stability check below is of the rounds as finally kept.",
        "",
        "| target | req/s (32 conn) | p50 ms (32) | p99 ms (32) | p50 ms (1 conn) | p99 ms (1) "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for target, kinds in medians.items():
        c32, c1 = kinds["c32"], kinds["c1"]
        lines.append(
            f"| {target} | {c32.rps:,.0f} | {c32.p50_ms:.2f} | {c32.p99_ms:.2f} "
            f"| {c1.p50_ms:.2f} | {c1.p99_ms:.2f} | {c32.errors + c1.errors} |"
        )
    lines += [
        "",
        f"Targets: the gateway {TARGETS}.",
        "",
        "| check | value | met |",
        "|---|---|---|",
    ]
    results = checks(medians, rounds)
    lines += [f"| {name} | {value} | {'yes' if ok else 'NO'} |" for name, value, ok in results]
    if not all(ok for _, _, ok in results):
        lines += ["", GAPS]
    lines += ["", "Every round (req/s at 32 connections; p50 / p99 ms at 1 connection):", ""]
    for target, runs in rounds.items():
        cells = [
            f"{a.rps:,.0f}; {b.p50_ms:.2f} / {b.p99_ms:.2f}"
            for a, b in zip(runs["c32"], runs["c1"], strict=True)
        ]
        lines.append(f"- {target}: " + " | ".join(cells))
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _cores() -> str:
    return subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
