"""`make bench-registry`: polyshop's registry beside a real Netflix Eureka server.

The same open-loop load (registry/bench/phases.py) runs against polyshop's
registry, against Spring Cloud Netflix's Eureka server with its defaults,
and against the same server tuned for quick change (targets.EUREKA_TUNED),
one after the other on this machine, the load generator on it too. Writes
docs/benchmarks/registry.md (report.py); about ten minutes, most of it
waiting for Eureka's defaults to evict a silent instance.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from pathlib import Path

import report
from phases import Measured, measure
from targets import EUREKA_TUNED, Target, eureka, polyshop

from polyshop_dev.bench.registry import instances
from polyshop_dev.paths import ROOT
from polyshop_dev.pieces import free_port
from polyshop_dev.stack import Stack

REPORT = ROOT / "docs" / "benchmarks" / "registry.md"
# The services of the run: the 10,000 instances', and those the phases add.
SERVICES = sorted({service for service, _ in instances()} | {"bench-new", "bench-silent"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["polyshop", "eureka"], help="measure one side only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    try:
        targets = [
            polyshop(free_port(), folder / "polyshop", SERVICES),
            eureka("eureka-defaults", free_port(), {}, lease_seconds=90),
            eureka("eureka-tuned", free_port(), EUREKA_TUNED, lease_seconds=15),
        ]
        wanted = [t for t in targets if args.only is None or t.name.startswith(args.only)]
        results = [run(target, folder / target.name) for target in wanted]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.only is None:
        print(report.write(REPORT, results))


def run(target: Target, folder: Path) -> Measured:
    with Stack(folder / "logs") as stack:
        running = stack.start(target.piece)
        print(f"{target.name}: started, pid {running.pid}", flush=True)
        return asyncio.run(measure(target, running.pid))


if __name__ == "__main__":
    main()
