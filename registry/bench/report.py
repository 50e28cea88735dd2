"""docs/benchmarks/registry.md: every figure, polyshop beside Eureka, and the targets."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from phases import (
    DESIGN_RATE,
    READ_RATE,
    READ_SECONDS,
    STEP_SECONDS,
    WARM_UP_RATE,
    WARM_UP_SECONDS,
    WATCHERS,
    Measured,
)

from polyshop_dev.bench.openloop import percentile
from polyshop_dev.bench.report import machine


@dataclass(frozen=True)
class Row:
    figure: str
    show: Callable[[Measured], str]
    target: str  # what polyshop must do; "" when only the comparison counts
    met: Callable[[Measured], bool] | None  # polyshop against the target
    # polyshop against one Eureka run: does it do better (or as well)?
    beats: Callable[[Measured, Measured], bool]


def sustained(m: Measured) -> int:
    return max((int(s.run.rate) for s in m.steps if s.sustained), default=0)


def step(m: Measured, rate: int):
    return next((s for s in m.steps if s.run.rate == rate), None)


def p99_ms(m: Measured, encoding: str) -> float:
    return percentile(m.reads[encoding].latencies(200), 99) * 1000


def answered(m: Measured, encoding: str) -> float:
    return m.reads[encoding].achieved(200)


def heartbeat_p99(m: Measured) -> float:
    at = step(m, 4000)
    return at.p99_ms if at else float("inf")


def _ms(value: float | None) -> str:
    return "did not happen" if value is None else f"{value:,.0f} ms"


def _less(a: float | None, b: float | None) -> bool:
    return a is not None and (b is None or a <= b)


ROWS = [
    Row(
        "registrations/s (10,000 instances, 32 at a time)",
        lambda m: f"{m.registrations_per_s:,.0f}",
        "",
        None,
        lambda p, e: p.registrations_per_s >= e.registrations_per_s,
    ),
    Row(
        "heartbeats/s sustained; p99 at 4,000/s",
        lambda m: f"{sustained(m):,}; {heartbeat_p99(m):,.1f} ms",
        ">= 4,000; <= 50 ms",
        lambda m: sustained(m) >= 4000 and heartbeat_p99(m) <= 50,
        lambda p, e: sustained(p) >= sustained(e),
    ),
    Row(
        f"registry CPU at {DESIGN_RATE:,} heartbeats/s (one core = 100%)",
        lambda m: f"{step(m, DESIGN_RATE).registry_cpu:.0%}" if step(m, DESIGN_RATE) else "-",
        "",
        None,
        lambda p, e: step(p, DESIGN_RATE).registry_cpu <= step(e, DESIGN_RATE).registry_cpu,
    ),
    Row(
        f"whole reads at {READ_RATE}/s, identity: answered/s; p99",
        lambda m: f"{answered(m, 'identity'):.1f}; {p99_ms(m, 'identity'):,.0f} ms",
        f"{READ_RATE}/s; <= 50 ms",
        lambda m: answered(m, "identity") >= 0.95 * READ_RATE and p99_ms(m, "identity") <= 50,
        lambda p, e: p99_ms(p, "identity") <= p99_ms(e, "identity"),
    ),
    Row(
        f"whole reads at {READ_RATE}/s, gzip: p99",
        lambda m: f"{p99_ms(m, 'gzip'):,.1f} ms",
        "<= 10 ms",
        lambda m: p99_ms(m, "gzip") <= 10,
        lambda p, e: p99_ms(p, "gzip") <= p99_ms(e, "gzip"),
    ),
    Row(
        f"{WATCHERS} long-poll watchers woken by one change: the last answered after",
        lambda m: "no long poll" if m.watchers_last_ms is None else _ms(m.watchers_last_ms),
        "<= 200 ms",
        lambda m: m.watchers_last_ms is not None and m.watchers_last_ms <= 200,
        lambda p, e: p.watchers_last_ms is not None,
    ),
    Row(
        "memory with 10,000 instances (RSS)",
        lambda m: f"{m.rss_mib:,.0f} MiB",
        "<= 150 MiB",
        lambda m: m.rss_mib <= 150,
        lambda p, e: p.rss_mib <= e.rss_mib,
    ),
    Row(
        "a silent instance gone from reads after",
        lambda m: "did not happen" if m.eviction_s is None else f"{m.eviction_s:,.1f} s",
        "<= 15.3 s (as before)",
        lambda m: m.eviction_s is not None and m.eviction_s <= 15.3,
        lambda p, e: _less(p.eviction_s, e.eviction_s),
    ),
    Row(
        "a new instance seen by a reader after",
        lambda m: _ms(m.propagation_ms),
        "<= 153 ms (as before)",
        lambda m: m.propagation_ms is not None and m.propagation_ms <= 153,
        lambda p, e: _less(p.propagation_ms, e.propagation_ms),
    ),
    Row(
        "a whole read's body, identity / gzip",
        lambda m: f"{m.body_bytes['identity'] / 1e6:.1f} MB / {m.body_bytes['gzip'] / 1e3:,.0f} KB",
        "",
        None,
        lambda p, e: p.body_bytes["gzip"] <= e.body_bytes["gzip"],
    ),
]


def write(path: Path, results: list[Measured]) -> str:
    ours, others = results[0], results[1:]
    names = " | ".join(m.target for m in results)
    lines = [
        "# Registry benchmark: polyshop beside Netflix Eureka",
        "",
        f"Latest run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, written by `make bench-registry` "
        f"(`registry/bench/run.py`). Machine: {machine()}. Load average when the run ended: "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg())
        + ".",
        "",
        *METHOD,
        "",
        f"| figure | {names} | target (polyshop) | met | better than every Eureka run |",
        "|---|" + "---:|" * len(results) + "---:|---|---|",
    ]
    for row in ROWS:
        shown = " | ".join(row.show(m) for m in results)
        met = "" if row.met is None else ("met" if row.met(ours) else "**not met**")
        better = "yes" if all(row.beats(ours, other) for other in others) else "**no**"
        lines.append(f"| {row.figure} | {shown} | {row.target or '-'} | {met or '-'} | {better} |")
    lines += ["", "## Heartbeat steps", ""]
    for m in results:
        lines.append(f"- **{m.target}**: " + "; ".join(_step(s) for s in m.steps) + ".")
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text


def _step(s) -> str:
    tail = "" if s.sustained else ", not sustained"
    return (
        f"{s.run.rate:,.0f}/s offered, {s.run.achieved(200):,.0f}/s answered, p99 "
        f"{s.p99_ms:,.1f} ms, CPU {s.registry_cpu:.0%}, load avg {s.loadavg:.1f}{tail}"
    )


METHOD = [
    "One after the other on this machine, the load generator (Python, aiohttp) on it "
    "too: polyshop's registry (one gevent worker, its own API `/v1`), then Spring Cloud "
    "Netflix's Eureka server 4.3 on Spring Boot 3.5 (`-Xmx512m`, Eureka's REST API) with "
    "its defaults, then the same server tuned for quick change (a 1 s eviction timer, no "
    "read-only response cache, renewals expected every 5 s, no self-preservation). Each "
    "gets 10,000 instances (100 services of 100), registered 32 at a time.",
    "",
    f"- **Heartbeats**: after {WARM_UP_SECONDS:.0f} s at {WARM_UP_RATE:,}/s to warm up "
    f"(not reported), open-loop steps of {STEP_SECONDS:.0f} s, round robin over the "
    "instances; a step is sustained when every heartbeat is answered 200 and at least "
    "95% of the offered rate is; CPU is the registry process's, as a share of one core.",
    f"- **Whole reads**: {READ_RATE} a second for {READ_SECONDS:.0f} s, `Accept-Encoding: "
    "identity`, then `gzip`; Eureka's in JSON, as Spring's client asks.",
    f"- **Watchers**: {WATCHERS} long polls of what changed (`/v1/services?since=N`, "
    "gzip), as the shop's clients watch; one registration wakes them. Eureka has no "
    "long poll: its clients ask for the delta every 30 s.",
    "- **A new instance**: polyshop's reader long-polls the service; Eureka's asks for "
    "the delta (`/eureka/apps/delta`, what a running stock client fetches) every 50 ms, "
    "so the figure is the server's own delay: its read-only response cache, refreshed "
    "every 30 s by default (anywhere from 0 to 30 s, by where the registration falls in "
    "that cycle), off when tuned. A stock client adds up to its fetch interval, 30 s by "
    "default.",
    f"- **A silent instance**: registered asking for the default lease (polyshop 15 s, "
    f"Eureka 90 s; tuned 15 s) while the 10,000 others renew at {DESIGN_RATE:,}/s; the "
    "time until a read of its service no longer lists it. Eureka waits about twice the "
    "lease and its eviction timer; polyshop evicts at the lease's end.",
]
