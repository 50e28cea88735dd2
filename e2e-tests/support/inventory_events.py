"""What inventory published for each order, checked against how the order
ended: its events in order, once, a copy allowed only of a row a killed
relay published but had not marked sent (docs/adr/0008)."""

from __future__ import annotations

import json
import time
from collections import defaultdict

from kafka import KafkaConsumer, TopicPartition

STORY_SECONDS = 30  # how long inventory has to finish a story after the order ended
BATCH_SIZE = 100  # the relay's batch: at most one is in flight when a relay dies
# What inventory may say about one order, in this order, by how it ended.
STORIES = {
    "CONFIRMED": [["inventory.reserved"]],
    "CANCELLED": [["inventory.rejected"], ["inventory.reserved", "inventory.released"]],
}


def check_inventory_events(
    bootstrap: str, ended: dict[str, dict], killed_at: float, killed_by: float
) -> None:
    """Every order of `ended` (id → the order as it ended) has its inventory
    events in order; a record published twice is the killed relay's copy
    (before `killed_by`) and its successor's (after `killed_at`), seconds
    since the epoch.

    An order is cancelled before inventory has released its stock (inventory
    hears of the cancellation through the broker, then publishes through its
    outbox), so the topic is read again until every story is whole or
    `STORY_SECONDS` have passed."""
    deadline = time.monotonic() + STORY_SECONDS
    while True:
        copies, stories = read_stories(bootstrap, set(ended))
        unfinished = {
            order_id: stories[order_id]
            for order_id, order in ended.items()
            if stories[order_id] not in STORIES[order["status"]]
        }
        if not unfinished or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for order_id, story in unfinished.items():
        assert story in STORIES[ended[order_id]["status"]], (order_id, ended[order_id], story)
    twice = {event_id: sent for event_id, sent in copies.items() if len(sent) > 1}
    assert len(twice) <= BATCH_SIZE, twice
    for event_id, sent in twice.items():
        assert len(sent) == 2, (event_id, sent)
        assert sent[0] <= killed_by * 1000 and sent[1] >= killed_at * 1000, (event_id, sent)


def read_stories(
    bootstrap: str, order_ids: set[str]
) -> tuple[dict[str, list[int]], dict[str, list[str]]]:
    """Every inventory event about `order_ids`: event id → the timestamps (ms)
    of its copies, and order id → its event types, first copies only."""
    copies: dict[str, list[int]] = defaultdict(list)
    stories: dict[str, list[str]] = defaultdict(list)
    records = records_of(bootstrap, "inventory", order_ids)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = json.loads(record.value)
        copies[event["id"]].append(record.timestamp)
        if len(copies[event["id"]]) == 1:
            stories[event["subject"]].append(event["type"])
    return copies, stories


def records_of(bootstrap: str, topic: str, keys: set[str]) -> list:
    """Every record of `topic` keyed by one of `keys`, from the beginning to the end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found = []
        deadline = time.monotonic() + 20
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            assert time.monotonic() < deadline, f"{topic} not read to its end"
            for batch in consumer.poll(timeout_ms=300).values():
                found += [r for r in batch if r.key and r.key.decode() in keys]
        return found
    finally:
        consumer.close()
