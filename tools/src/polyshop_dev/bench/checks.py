"""The issue's targets, each figure measured against its own, and by how much
a missed one falls short."""

from __future__ import annotations

import math
from dataclasses import dataclass

from polyshop_dev.bench.procs import total
from polyshop_dev.bench.registry import HEARTBEAT_SECONDS, INSTANCES
from polyshop_dev.bench.results import Results
from polyshop_dev.bench.saga import SOAK

GIB = 1024 * 1024  # KiB in a GiB
STACK_LIMIT_GIB = 1.2
SAGA_P99_MS = 100.0
FAST_ACCEPTED = 0.99  # of the orders offered at 200/s, answered 202
FAST_P99_MS = 250.0
DRAIN_SECONDS = 2.0
WARM_START_SECONDS = 6.0
HEARTBEATS_PER_SECOND = INSTANCES / HEARTBEAT_SECONDS


@dataclass(frozen=True)
class Check:
    figure: str
    value: str
    target: str
    met: bool | None  # None: the issue sets no target for this figure
    shortfall: str = ""


def at_most(figure: str, value: float, limit: float, unit: str, digits: int = 0) -> Check:
    shown = f"{value:,.{digits}f} {unit}" if not math.isnan(value) else "no data"
    met = not math.isnan(value) and value <= limit
    over = (
        ""
        if met or math.isnan(value)
        else (f"{value - limit:,.{digits}f} {unit} over ({value / limit:.1f}x the target)")
    )
    return Check(figure, shown, f"<= {limit:,.{digits}f} {unit}", met, over)


def at_least(
    figure: str, value: float, floor: float, unit: str, note: str = "", digits: int = 0
) -> Check:
    met = value >= floor
    short = (
        ""
        if met
        else f"{floor - value:,.{digits}f} {unit} short ({value / floor:.1%} of the target)"
    )
    shown, target = f"{value:,.{digits}f} {unit}", f">= {floor:,.{digits}f} {unit}{note}"
    return Check(figure, shown, target, met, short)


def checks(results: Results) -> list[Check]:
    return [*_saga(results), *_memory(results), *_startup(results), *_registry(results)]


def _saga(results: Results) -> list[Check]:
    slow, fast = results.phase("50/s"), results.phase("200/s")
    confirmed = len(slow.final_latencies("order.confirmed"))
    found = [
        Check(
            "50 orders/s: orders confirmed (the whole saga), of those accepted",
            f"{confirmed:,} of {len(slow.accepted):,}",
            "all",
            confirmed == len(slow.accepted),
            "" if confirmed == len(slow.accepted) else f"{len(slow.accepted) - confirmed} not",
        ),
        at_most(
            "50 orders/s: placed -> CONFIRMED, p99",
            slow.final_p(99, "order.confirmed") * 1000,
            SAGA_P99_MS,
            "ms",
        ),
        at_least(
            "200 orders/s: orders accepted (202), of those offered",
            100 * fast.run.count(202) / max(fast.run.planned, 1),
            100 * FAST_ACCEPTED,
            "%",
            digits=1,
        ),
        at_most("200 orders/s: placed -> final, p99", fast.final_p(99) * 1000, FAST_P99_MS, "ms"),
    ]
    drained = fast.drained_after
    found.append(
        at_most(
            "200 orders/s: lag of every group back to 0 after the load stops",
            math.nan if drained is None else drained,
            DRAIN_SECONDS,
            "s",
            1,
        )
    )
    refused = sum(p.run.planned - p.run.count(202) for p in results.phases)
    lost = sum(len(p.missing) for p in results.phases)
    accepted = sum(len(p.accepted) for p in results.phases)
    found.append(
        Check(
            "orders lost (accepted, never final), every load",
            f"{lost} of {accepted:,}",
            "0",
            lost == 0,
            f"{lost} orders" if lost else "",
        )
    )
    found.append(
        Check(
            "orders not accepted (HTTP error, no answer, not sent), every load",
            str(refused),
            "0",
            refused == 0,
            f"{refused} orders" if refused else "",
        )
    )
    return found


def _memory(results: Results) -> list[Check]:
    whole = total("stack", results.memory)
    minutes = results.phase(SOAK).run.seconds / 60
    found = [
        at_most(
            f"whole stack after {minutes:g} min at 50 orders/s, RSS summed (Kafka included)",
            whole.rss_kib / GIB,
            STACK_LIMIT_GIB,
            "GiB",
            2,
        )
    ]
    if whole.pss_kib is not None:
        found.append(
            Check(
                "the same, PSS summed (shared pages split)",
                f"{whole.pss_kib / GIB:.2f} GiB",
                "none set",
                None,
            )
        )
    return found


def _startup(results: Results) -> list[Check]:
    if not results.starts:
        return [
            Check(
                '`make up` to "polyshop is up"',
                "skipped: " + results.startup_skipped,
                "none set",
                None,
            )
        ]
    return [_start_check(start) for start in results.starts] + [
        Check(
            "processes left after Ctrl-C",
            str(sum(len(s.left_behind) for s in results.starts)),
            "0",
            all(not s.left_behind for s in results.starts),
        )
    ]


def _start_check(start) -> Check:
    figure = f'`make up` to "polyshop is up", {start.kind}'
    if start.seconds is None:
        return Check(figure, "did not come up", "", False)
    if start.kind == "warm":
        return at_most(figure, start.seconds, WARM_START_SECONDS, "s", 1)
    return Check(figure, f"{start.seconds:.1f} s", "none set", None)


def _registry(results: Results) -> list[Check]:
    registry = results.registry
    at_target = registry.step(HEARTBEATS_PER_SECOND)
    p99 = "not run" if at_target is None else f"{at_target.p99_ms:.1f} ms"
    return [
        at_least(
            "registry: instances registered and held", registry.registered, INSTANCES, "instances"
        ),
        at_least(
            "registry: heartbeats/s sustained with 10,000 instances",
            registry.sustained_rate,
            HEARTBEATS_PER_SECOND,
            "heartbeats/s",
        ),
        Check("registry: heartbeat p99 at 2,000/s", p99, "none set", None),
        Check(
            "registry: resident memory with 10,000 instances",
            f"{registry.memory.rss_kib / 1024:.0f} MiB RSS",
            "none set",
            None,
        ),
    ]
