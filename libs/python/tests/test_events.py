import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from polyshop_common.events import Contracts, InvalidEvent, find_contracts_dir, new_event

ORDER_ID = "0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10"


def confirmed(**data):
    body = {"order_id": ORDER_ID, "user": "alice", "total_cents": 2700, "currency": "EUR"}
    return new_event("order.confirmed", "/orders", ORDER_ID, body | data)


def test_new_event_is_a_valid_cloudevent_with_uuid_and_utc_millisecond_time(contracts):
    event = confirmed()
    contracts.validate(event)
    assert re.fullmatch(r"[0-9a-f-]{36}", event["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["time"])
    assert confirmed()["id"] != event["id"]


@pytest.mark.parametrize(
    ("event", "says"),
    [
        ([], "JSON object"),
        ({"type": "order.shipped"}, "unknown event type"),
        ({"type": 3}, "unknown event type"),
        (confirmed(total_cents=-1), "data/total_cents"),
        (confirmed(extra=1), "data"),
    ],
)
def test_validate_names_what_is_wrong(contracts, event, says):
    with pytest.raises(InvalidEvent) as raised:
        contracts.validate(event)
    assert says in raised.value.reason


def test_topics_and_dead_letter_topics_come_from_topics_json(contracts):
    assert contracts.topic_of("payment.declined") == "payments"
    assert contracts.dead_letter_topic("payments") == "payments.dlq"


def test_contracts_are_found_from_the_repository():
    assert find_contracts_dir() == Path(__file__).resolve().parents[3] / "contracts"


def test_a_missing_contracts_folder_says_to_set_contracts_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="CONTRACTS_DIR"):
        Contracts.load(tmp_path)


def test_retry_topics_come_from_topics_json(contracts):
    assert contracts.retry_topic("orders", 2) == "orders.retry.2"
    assert contracts.retry_topics(["orders"]) == [f"orders.retry.{n}" for n in (1, 2, 3)]
    assert contracts.retry_topics(["orders", "payments"], 1) == [
        "orders.retry.1",
        "payments.retry.1",
    ]


@pytest.mark.parametrize(
    ("topic", "origin"),
    [
        ("orders", ("orders", 0)),
        ("orders.retry.1", ("orders", 1)),
        ("orders.retry.3", ("orders", 3)),
        ("orders.retry.4", ("orders.retry.4", 0)),  # beyond retry_levels: no retry topic
        ("orders.dlq", ("orders.dlq", 0)),
    ],
)
def test_a_retry_topic_names_its_original_topic_and_level(contracts, topic, origin):
    assert contracts.origin_of(topic) == origin


def test_times_to_live_come_from_expiry_json(contracts):
    assert contracts.ttl_of("order.created") == 600
    assert contracts.ttl_of("order.confirmed") is None


@pytest.mark.parametrize(
    ("event_type", "age_seconds", "expired"),
    [
        ("order.created", 599, False),
        ("order.created", 601, True),
        ("order.confirmed", 10**6, False),  # a type not listed never expires
    ],
)
def test_an_event_expires_when_older_than_its_types_time_to_live(
    contracts, event_type, age_seconds, expired
):
    sent = datetime(2026, 11, 27, 10, 15, tzinfo=UTC)
    event = {"type": event_type, "time": "2026-11-27T10:15:00.000Z"}
    assert contracts.expired(event, sent + timedelta(seconds=age_seconds)) is expired
