"""Where a failed record goes next and when its copy is due, without a broker."""

import pytest

from polyshop_common.kafka_io import Outcome, Retries
from polyshop_common.kafka_io.retries import (
    Pauses,
    dead_letter_headers,
    due_ms,
    retry_headers,
)

NOW_MS = 1_800_000_000_000


class SentRecords:
    """Stands in for the producer: what would have been published, in order."""

    def __init__(self):
        self.sent = []

    def send_raw(self, topic, key, value, headers):
        self.sent.append((topic, key, value, dict(headers)))


@pytest.fixture
def producer():
    return SentRecords()


@pytest.fixture
def retries(contracts, producer):
    return Retries(contracts, "inventory", (1, 10, 60), producer, clock=lambda: NOW_MS / 1000)


@pytest.fixture
def first_copy(make_record):
    """A record of `orders` after its first attempt failed, as read from orders.retry.1."""
    original = make_record(b"{}", topic="orders", partition=1, offset=7)
    original.headers = [("traceparent", b"00-abc-def-01")]
    headers = retry_headers(original, group="inventory", level=0, reason="r1", due_ms=NOW_MS)
    written = NOW_MS - 500
    return make_record(b"{}", topic="orders.retry.1", offset=3, timestamp=written, headers=headers)


def test_the_first_retry_copy_says_who_retries_it_when_why_and_where_it_was_first_read(
    first_copy,
):
    assert dict(first_copy.headers) == {
        "traceparent": b"00-abc-def-01",
        "retry-group": b"inventory",
        "attempt": b"2",
        "retry-due": str(NOW_MS).encode(),
        "attempt-1-reason": b"r1",
        "original-topic": b"orders",
        "original-partition": b"1",
        "original-offset": b"7",
    }


def test_a_later_copy_keeps_every_reason_and_the_first_coordinates(first_copy):
    headers = retry_headers(first_copy, group="inventory", level=1, reason="r2", due_ms=5)
    names = [name for name, _ in headers]
    assert len(names) == len(set(names))  # attempt and retry-due replaced, not repeated
    values = dict(headers)
    assert (values["attempt"], values["retry-due"]) == (b"3", b"5")
    assert (values["attempt-1-reason"], values["attempt-2-reason"]) == (b"r1", b"r2")
    assert (values["original-topic"], values["original-offset"]) == (b"orders", b"7")


@pytest.mark.parametrize(
    ("level", "where"), [(0, (b"orders.retry.1", b"0", b"3")), (1, (b"orders", b"1", b"7"))]
)
def test_a_dead_letter_names_where_its_record_was_first_read(first_copy, level, where):
    headers = dict(dead_letter_headers(first_copy, group="g", level=level, reason="why"))
    assert (headers["dlq-topic"], headers["dlq-partition"], headers["dlq-offset"]) == where
    assert (headers["dlq-reason"], headers["dlq-group"]) == (b"why", b"g")


@pytest.mark.parametrize(
    ("stated", "expected"),
    [
        (b"1500", 1500),  # before the level's delay has passed: as stated
        (b"99999999", 3000),  # far in the future: no later than the delay after writing
        (None, 3000),  # not stated: the delay after writing
        (b"soon", 3000),
    ],
)
def test_a_retry_copy_is_due_when_stated_but_never_after_its_levels_delay(
    make_record, stated, expected
):
    headers = [] if stated is None else [("retry-due", stated)]
    record = make_record(b"{}", topic="orders.retry.1", timestamp=1000, headers=headers)
    assert due_ms(record, delay=2) == expected


def test_paused_partitions_are_resumed_when_due_and_the_poll_never_oversleeps():
    pauses = Pauses()
    pauses.add("a", 1200)
    pauses.add("b", 1500)
    assert pauses.wait_ms(1000, longest=500) == 200
    assert pauses.take_due(1199) == []
    assert pauses.take_due(1200) == ["a"]
    assert pauses.wait_ms(1400, longest=500) == 100
    assert pauses.take_due(2000) == ["b"]
    assert pauses.wait_ms(2000, longest=500) == 500


def test_a_failed_record_goes_to_the_next_retry_topic_due_after_its_delay(
    retries, producer, first_copy, make_record
):
    assert retries.retry(make_record(b"{}", topic="orders"), "r1") is Outcome.RETRY_SCHEDULED
    assert retries.retry(first_copy, "r2") is Outcome.RETRY_SCHEDULED
    (first, _, _, headers1), (second, _, _, headers2) = producer.sent
    assert (first, headers1["retry-due"]) == ("orders.retry.1", str(NOW_MS + 1000).encode())
    assert (second, headers2["retry-due"]) == ("orders.retry.2", str(NOW_MS + 10_000).encode())


def test_after_the_last_delay_the_record_is_dead_lettered_with_every_reason(
    retries, producer, make_record
):
    record = make_record(b"v", topic="orders.retry.3", headers=[("attempt-3-reason", b"r3")])
    assert retries.retry(record, "r4") is Outcome.DEAD_LETTERED
    [(topic, key, value, headers)] = producer.sent
    assert (topic, key, value) == ("orders.dlq", record.key, b"v")
    assert headers["dlq-reason"] == b"gave up after 4 attempts: r4"
    assert (headers["attempt-3-reason"], headers["attempt-4-reason"]) == (b"r3", b"r4")


def test_without_retries_a_failure_is_dead_lettered_at_once(contracts, producer, make_record):
    retries = Retries(contracts, "inventory", (), producer)
    assert retries.topics(["orders"]) == ["orders"]
    assert retries.retry(make_record(b"v", topic="orders"), "handler failed: x") is (
        Outcome.DEAD_LETTERED
    )
    assert producer.sent[0][3]["dlq-reason"] == b"handler failed: x"


def test_a_group_reads_the_retry_topics_of_its_delays_and_skips_other_groups_copies(
    contracts, producer, retries, first_copy
):
    assert Retries(contracts, "g", (1, 2), producer).topics(["orders"]) == [
        "orders",
        "orders.retry.1",
        "orders.retry.2",
    ]
    assert not retries.foreign(first_copy)
    assert Retries(contracts, "notifications", (1,), producer).foreign(first_copy)
    assert retries.due_ms(first_copy) == NOW_MS


def test_more_delays_than_retry_topics_are_refused(contracts, producer):
    with pytest.raises(ValueError, match="retry levels"):
        Retries(contracts, "g", (1, 2, 3, 4), producer)
