"""`make bench-tracing`: what tracing costs the shop at 50 orders/s.

    .venv/bin/python -m polyshop_dev.bench.tracing [--seconds 8] [--rounds 2]

Three ways to run the same shop, each on a fresh shop (fresh stock, so every
order can be confirmed), in rounds that alternate their order:

- baseline: OTEL_SDK_DISABLED=true, no OpenTelemetry set up at all;
- tracing off: the default, no exporter: spans are started unsampled and
  trace ids still reach the logs and the records' headers;
- tracing on: every span sent to a Zipkin server.

At 50 orders/s every mode keeps up, so the orders accepted per second are
the same; the cost is the CPU the pieces spend per order (every process of
every piece but Kafka and Zipkin, from the first order to the moment every
order is final and every lag is 0). The throughput the two cores could
sustain goes as its inverse, so the throughput tracing takes away is
1 - baseline CPU / mode's CPU. The target: tracing off takes at most 5%.
Writes docs/benchmarks/tracing.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean

from polyshop_dev.bench import procs, stand
from polyshop_dev.bench.lag import LagProbe
from polyshop_dev.bench.openloop import percentile
from polyshop_dev.bench.report import machine
from polyshop_dev.bench.saga import Phase, run_phase
from polyshop_dev.bench.terminal import FinalEvents
from polyshop_dev.paths import ROOT, RUN

RATE = 50
TARGET = 0.05  # at most this share of the throughput, for tracing off
NOT_COUNTED = {"kafka", "zipkin"}
ATTEMPTS = 3  # of a round, until every order in it is confirmed
LOGS = (
    RUN / "bench-tracing-logs"
)  # of the rounds run again  # the broker and the trace backend are not the shop's code


@dataclass(frozen=True)
class Mode:
    name: str
    env: dict[str, str]
    traces: bool = False


BASELINE = Mode("baseline: OTEL_SDK_DISABLED=true", {"OTEL_SDK_DISABLED": "true"})
OFF = Mode("tracing off: no exporter (the default)", {})
ON = Mode("tracing on: every span to Zipkin", {}, traces=True)
MODES = (BASELINE, OFF, ON)


@dataclass
class Round:
    mode: Mode
    phase: Phase
    cpu_by_piece: dict[str, float]  # CPU seconds

    @property
    def orders(self) -> int:
        return len(self.phase.accepted)

    @property
    def cpu_ms_per_order(self) -> float:
        return self.piece_ms_per_order(*self.cpu_by_piece)

    @property
    def confirmed(self) -> int:
        return sum(1 for f in self.phase.finals.values() if f.type == "order.confirmed")

    @property
    def whole(self) -> bool:
        return self.orders > 0 and self.confirmed == self.orders

    def piece_ms_per_order(self, *pieces: str) -> float:
        return sum(self.cpu_by_piece[p] for p in pieces) * 1000 / max(self.orders, 1)


def measure(mode: Mode, folder: Path, seconds: float) -> Round:
    with stand.bench_shop(folder, mode.env, traces=mode.traces) as shop:
        tokens = stand.tokens(shop.gateway)
        probe = LagProbe(shop.bootstrap)
        try:
            with FinalEvents(shop.bootstrap) as finals:
                run_phase("warm-up", shop.gateway, tokens, 10, 3, finals, probe)
                groups = {
                    name: running.pid
                    for name, running in shop.stack.running.items()
                    if name not in NOT_COUNTED
                }
                before = {name: procs.cpu_seconds(pid) for name, pid in groups.items()}
                phase = run_phase(f"{RATE}/s", shop.gateway, tokens, RATE, seconds, finals, probe)
                used = {n: procs.cpu_seconds(pid) - before[n] for n, pid in groups.items()}
        finally:
            probe.close()
    measured = Round(mode, phase, used)
    print(
        f"{mode.name}: {measured.orders} orders, {measured.confirmed} confirmed, "
        f"{sum(used.values()):.1f} CPU s, {measured.cpu_ms_per_order:.1f} ms per order",
        flush=True,
    )
    return measured


def measure_whole(mode: Mode, folder: Path, seconds: float) -> tuple[Round, int]:
    """A round in which every order was confirmed, and how many were not.

    A round in which a piece did not do its part (every order then ends by
    the saga's timeout) would count its CPU per order as cheaper: it is kept
    aside, with the pieces' logs, and run again on a fresh shop."""
    for attempt in range(1, ATTEMPTS + 1):
        measured = measure(mode, folder / str(attempt), seconds)
        if measured.whole:
            return measured, attempt - 1
        kept = LOGS / f"{folder.name}-{attempt}"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(folder / str(attempt) / "logs", kept)
        print(f"  not every order was confirmed: run again; logs kept in {kept}", flush=True)
    raise SystemExit(f"{mode.name}: no round confirmed every order in {ATTEMPTS} attempts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8, help="length of each 50/s load")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--output", type=Path, default=ROOT / "docs/benchmarks/tracing.md")
    args = parser.parse_args()
    began, started = datetime.now(UTC), time.monotonic()
    rounds: list[Round] = []
    repeated = 0
    with tempfile.TemporaryDirectory(prefix="bench-tracing-") as tmp:
        for number in range(args.rounds):
            order = MODES if number % 2 == 0 else MODES[::-1]
            for index, mode in enumerate(order):
                measured, again = measure_whole(mode, Path(tmp) / f"{number}-{index}", args.seconds)
                rounds.append(measured)
                repeated += again
    text = report(rounds, began, time.monotonic() - started, args.seconds, repeated)
    args.output.write_text(text)
    print(text)


def report(rounds: list[Round], began: datetime, took: float, seconds: float, repeated: int) -> str:
    cpu = {m.name: mean(r.cpu_ms_per_order for r in rounds if r.mode is m) for m in MODES}
    loss = {m.name: 1 - cpu[BASELINE.name] / cpu[m.name] for m in MODES}
    off = loss[OFF.name]
    verdict = "met" if off <= TARGET else f"**not met**: {off - TARGET:.1%} over"
    lines = [
        "# What tracing costs: the shop at 50 orders/s",
        "",
        f"Latest run: {began:%Y-%m-%d %H:%M} UTC, {took / 60:.1f} minutes, written by "
        "`make bench-tracing` (`.venv/bin/python -m polyshop_dev.bench.tracing`).",
        f"Machine: {machine()}.",
        "",
        "How: [tracing.py](../../tools/src/polyshop_dev/bench/tracing.py). Each round starts a "
        f"fresh shop, warms it up (10 orders/s for 3 s), then places {RATE} orders/s for "
        f"{seconds:g} s through the gateway (open loop) and waits until every order is final "
        "and every consumer group has caught up. The modes alternate their order from round to "
        "round. *CPU per order* is the user and system time of every process of every piece "
        "(Kafka and Zipkin left out) over that time, divided by the orders. *Throughput taken* "
        "is 1 - baseline CPU / mode's CPU: the share of the orders per second the machine could "
        "sustain that the mode gives up. Only rounds in which every order was confirmed "
        f"count; {repeated} round(s) of this run were run again because one was not "
        f"(their pieces' logs are kept in `{LOGS.relative_to(ROOT)}/`).",
        "",
        "## Against the target",
        "",
        "| figure | measured | target | met |",
        "|---|---:|---:|---|",
        f"| tracing off: throughput taken at {RATE} orders/s, against no SDK at all | "
        f"{off:.1%} | <= {TARGET:.0%} | {verdict} |",
        "",
        "## Every mode",
        "",
        "| mode | rounds: CPU ms per order | CPU ms per order, mean | throughput taken | "
        "orders accepted | confirmed | final p50 | final p99 |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in MODES:
        mine = [r for r in rounds if r.mode is mode]
        finals = [latency for r in mine for latency in r.phase.final_latencies()]
        confirmed = sum(r.confirmed for r in mine)
        lines.append(
            f"| {mode.name} | {', '.join(f'{r.cpu_ms_per_order:.1f}' for r in mine)} "
            f"| {cpu[mode.name]:.1f} | {loss[mode.name]:.1%} | {sum(r.orders for r in mine):,} "
            f"| {confirmed:,} | {_ms(finals, 50)} | {_ms(finals, 99)} |"
        )
    base = [r.cpu_ms_per_order for r in rounds if r.mode is BASELINE]
    spread = (max(base) - min(base)) / mean(base)
    lines += [
        "",
        "*final*: from the moment an order's POST was due to its final event's `time`, in ms, "
        "over every round of the mode.",
        "",
        f"The noise: the baseline's own rounds differ by {spread:.1%} of their mean, so a "
        "difference between modes smaller than that is within what one round to the next "
        "varies on this shared machine.",
        "",
        *_by_piece(rounds),
    ]
    return "\n".join(lines)


def _by_piece(rounds: list[Round]) -> list[str]:
    """Where the CPU goes: each piece's mean CPU ms per order, by mode."""
    pieces = sorted(rounds[0].cpu_by_piece)
    lines = [
        "## By piece",
        "",
        "CPU ms per order, mean over the rounds; the change is against the baseline.",
        "",
        "| piece | " + " | ".join(mode.name.split(":")[0] for mode in MODES) + " | off: change |",
        "|---|" + "---:|" * (len(MODES) + 1),
    ]
    for piece in pieces:
        by_mode = [
            mean(r.piece_ms_per_order(piece) for r in rounds if r.mode is mode) for mode in MODES
        ]
        change = by_mode[MODES.index(OFF)] - by_mode[MODES.index(BASELINE)]
        lines.append(
            f"| {piece} | " + " | ".join(f"{v:.2f}" for v in by_mode) + f" | {change:+.2f} |"
        )
    return [*lines, ""]


def _ms(latencies: list[float], percent: float) -> str:
    return f"{percentile(latencies, percent) * 1000:.0f} ms" if latencies else "-"


if __name__ == "__main__":
    main()
