from __future__ import annotations

import pytest

from gateway.routes import Route, RouteTable
from gateway.status import RouteCounters, Traffic

TABLE = RouteTable([Route("/api/orders", "orders"), Route("/", "storefront")])


@pytest.fixture
def traffic(clock) -> Traffic:
    return Traffic(TABLE, window_seconds=10, clock=clock)


def row(traffic: Traffic, prefix: str) -> dict:
    return next(row for row in traffic.report() if row["prefix"] == prefix)


def test_counts_requests_and_5xx_answers_per_route(traffic):
    for status in (200, 201, 404, 499, 500, 502, 504):
        traffic.count("/api/orders", status)
    traffic.count("/", 200)
    assert row(traffic, "/api/orders") == {
        "prefix": "/api/orders",
        "service": "orders",
        "requests": 7,
        "errors": 3,
        "requests_per_second": 0.7,
        "errors_per_second": 0.3,
    }
    assert (row(traffic, "/")["requests"], row(traffic, "/")["errors"]) == (1, 0)


def test_lists_every_route_also_before_its_first_request(traffic):
    assert [(r["prefix"], r["requests"]) for r in traffic.report()] == [
        ("/", 0),
        ("/api/orders", 0),
    ]


def test_rates_cover_the_last_window_and_totals_everything(traffic, clock):
    for _ in range(20):
        traffic.count("/", 500)
    clock.advance(9)
    traffic.count("/", 200)
    assert row(traffic, "/")["requests_per_second"] == 2.1  # 21 in the last 10 s
    clock.advance(1)  # the first second has left the window
    slash = row(traffic, "/")
    assert (slash["requests_per_second"], slash["errors_per_second"]) == (0.1, 0)
    assert (slash["requests"], slash["errors"]) == (21, 20)


def test_a_bucket_is_started_afresh_when_the_ring_comes_round_again():
    counters = RouteCounters(window_seconds=3)
    counters.add(second=100, error=True)
    counters.add(second=103, error=False)  # the same bucket, three seconds later
    assert counters.per_second(now=103) == (round(1 / 3, 2), 0)
    assert (counters.requests, counters.errors) == (2, 1)


def test_an_idle_window_reads_zero(traffic, clock):
    traffic.count("/", 200)
    clock.advance(60)
    assert row(traffic, "/")["requests_per_second"] == 0
