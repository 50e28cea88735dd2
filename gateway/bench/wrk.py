"""Running wrk and reading its numbers; medians and the Markdown report."""

from __future__ import annotations

import re
import statistics
import subprocess
from dataclasses import dataclass

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_wrk(
    url: str, connections: int, seconds: int, threads: int = 2, headers: dict | None = None
) -> Result:
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
        *(arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse(output)


def parse(output: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {
        percent: float(value) * UNITS[unit]
        for percent, value, unit in re.findall(
            r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M
        )
    }
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return Result(rps, latency["50"], latency["99"], errors)


def median(results: list[Result]) -> Result:
    return Result(
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.errors for r in results),
    )


def stable(results: list[Result]) -> bool:
    """No round's throughput below 0.8 of the median."""
    middle = statistics.median(r.rps for r in results)
    return all(r.rps >= 0.8 * middle for r in results)


def disturbed(rounds: dict[str, dict[str, list[Result]]]) -> tuple[int, str] | None:
    """The first round (its index, and why) in which a target's throughput,
    at 32 or at 1 connection, fell below 0.8 of its median; None if none."""
    for target, runs in rounds.items():
        for kind, results in runs.items():
            middle = statistics.median(r.rps for r in results)
            for number, result in enumerate(results):
                if result.rps < 0.8 * middle:
                    why = f"{target}, {kind}: {result.rps:,.0f} req/s, median {middle:,.0f}"
                    return number, why
    return None
