"""`make bench-shop`: the shop under load, its footprint, its start-up, the registry.

    .venv/bin/python -m polyshop_dev.bench [--seconds 30] [--soak-seconds 600]
                                           [--output docs/benchmarks/shop.md]

In one run, each phase bounded in time: `make up` cold and warm on the
default ports (skipped when one is taken); the shop on spare ports under
open-loop order load, 50/s then 200/s, then 50/s for ten minutes with its
memory after that; a registry with 10,000 instances under heartbeats. Prints the report and
writes it to docs/benchmarks/shop.md; the logs of the loaded pieces are kept
in .run/bench-shop-logs/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from polyshop_dev.bench import procs, registry, stages, stand, startup
from polyshop_dev.bench.lag import LagProbe
from polyshop_dev.bench.report import write_report
from polyshop_dev.bench.results import Results
from polyshop_dev.bench.saga import SOAK, run_phase
from polyshop_dev.bench.terminal import FinalEvents
from polyshop_dev.paths import ROOT, RUN

LOGS = RUN / "bench-shop-logs"  # the benchmarked pieces' logs, kept for reading afterwards


def measure_shop(results: Results, folder: Path, seconds: float, soak_seconds: float) -> None:
    # (name, orders per second, seconds); the footprint is measured after the last
    loads = (("warm-up", 10, 3), ("50/s", 50, seconds), ("200/s", 200, seconds))
    loads += ((SOAK, 50, soak_seconds),)
    with stand.bench_shop(folder) as shop:
        print(f"shop: up, gateway {shop.gateway}, Kafka {shop.bootstrap}", flush=True)
        tokens = stand.tokens(shop.gateway)
        probe = LagProbe(shop.bootstrap)
        try:
            with FinalEvents(shop.bootstrap) as finals:
                for name, rate, length in loads:
                    phase = run_phase(name, shop.gateway, tokens, rate, length, finals, probe)
                    results.phases.append(phase)
                    print(
                        f"shop: {name} done, {len(phase.accepted)} accepted, "
                        f"p99 final {phase.final_p(99) * 1000:.0f} ms",
                        flush=True,
                    )
        finally:
            probe.close()
        events = stages.read_events(shop.bootstrap)
        for phase in results.phases:
            phase.stages = stages.stage_delays(events, phase.due)
        results.memory = [
            procs.footprint(name, running.pid) for name, running in shop.stack.running.items()
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="length of each order load")
    parser.add_argument(
        "--soak-seconds", type=float, default=600, help="length of the long load at 50/s"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "docs/benchmarks/shop.md")
    args = parser.parse_args()
    began = time.monotonic()
    results = Results(datetime.now(UTC), os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-shop-") as tmp:
        folder = Path(tmp)
        busy = startup.busy_ports()
        if busy:
            results.startup_skipped = f"default port(s) {', '.join(map(str, busy))} in use"
            print(f"start-up: skipped, {results.startup_skipped}", flush=True)
        else:
            results.starts = startup.measure(folder / "up")
        measure_shop(results, folder / "shop", args.seconds, args.soak_seconds)
        results.registry = registry.measure(folder / "registry")
        shutil.rmtree(LOGS, ignore_errors=True)
        shutil.copytree(folder / "shop" / "logs", LOGS / "shop")
        shutil.copytree(folder / "registry" / "logs", LOGS / "registry")
    results.seconds = time.monotonic() - began
    print(write_report(args.output, results))
    print(f"written to {args.output}; the pieces' logs are in {LOGS}")


if __name__ == "__main__":
    main()
