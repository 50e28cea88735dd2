"""The gateway benchmark's choice of a disturbed round to run again
(gateway/bench/wrk.py; the benchmark itself is `make bench-gateway`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
spec = importlib.util.spec_from_file_location("gateway_bench_wrk", BENCH / "wrk.py")
wrk = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = wrk  # dataclasses look their module up while it loads
spec.loader.exec_module(wrk)


def runs(*rps: float) -> list:
    return [wrk.Result(value, 1.0, 2.0, 0) for value in rps]


def test_steady_rounds_are_not_run_again():
    rounds = {
        "direct": {"c32": runs(100, 95, 105), "c1": runs(10, 10, 9)},
        "gateway": {"c32": runs(30, 29, 31), "c1": runs(5, 5, 5)},
    }
    assert wrk.disturbed(rounds) is None
    assert all(wrk.stable(kinds[k]) for kinds in rounds.values() for k in kinds)


def test_a_round_in_which_any_target_fell_below_four_fifths_of_its_median_is_named():
    rounds = {
        "direct": {"c32": runs(100, 95, 105), "c1": runs(10, 10, 9)},
        "gateway": {"c32": runs(30, 29, 31), "c1": runs(5, 3, 5)},
    }
    number, why = wrk.disturbed(rounds)
    assert number == 1
    assert why == "gateway, c1: 3 req/s, median 5"
    assert not wrk.stable(rounds["gateway"]["c1"])
