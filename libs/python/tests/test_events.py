import re
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
