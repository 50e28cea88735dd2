"""The benchmark's hop-by-hop breakdown, from hand-made event stamps."""

import json

import pytest

from polyshop_dev.bench.stages import STAGES, stage_delays, take


def stamps(**events):
    """(time, record timestamp) pairs in seconds, by event type."""
    return {kind.replace("_", "."): pair for kind, pair in events.items()}


def test_a_confirmed_order_passes_every_stage():
    events = {
        "o1": stamps(
            order_created=(10.020, 10.025),
            inventory_reserved=(10.040, 10.041),
            payment_authorized=(10.060, 10.070),
            order_confirmed=(10.100, 10.101),
        )
    }
    delays = stage_delays(events, {"o1": 10.000})
    assert [round(delays[stage][0] * 1000) for stage in STAGES] == [20, 5, 15, 1, 19, 10, 30]


def test_an_order_out_of_stock_skips_the_payment_stages():
    events = {
        "o2": stamps(
            order_created=(5.010, 5.012),
            inventory_rejected=(5.020, 5.030),
            order_cancelled=(5.050, 5.051),
        )
    }
    delays = stage_delays(events, {"o2": 5.000})
    assert delays[STAGES[4]] == delays[STAGES[5]] == []
    assert delays[STAGES[6]] == [pytest.approx(0.020)]  # from the rejection's publish


def test_an_order_never_seen_on_kafka_counts_in_no_stage():
    assert all(values == [] for values in stage_delays({}, {"o3": 1.0}).values())


def test_only_saga_events_are_taken():
    events = {}
    take(events, b"{not json", 1000)
    take(events, json.dumps({"type": "order.created"}).encode(), 1000)
    event = {"type": "order.created", "subject": "o4", "time": "2026-11-27T10:00:00.250+00:00"}
    take(events, json.dumps(event).encode(), 1_795_773_600_300)
    assert list(events) == ["o4"]
    stamped, published = events["o4"]["order.created"]
    assert round(published - stamped, 3) == 0.05
