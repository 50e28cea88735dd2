"""What inventory published for each order, checked against how the order
ended: its events in order, once, a copy allowed only of a row a killed
relay published but had not marked sent (docs/adr/0008)."""

from __future__ import annotations

import json
import time
from collections import defaultdict

from kafka import KafkaConsumer, TopicPartition

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
    since the epoch."""
    records = records_of(bootstrap, "inventory", set(ended))
    copies: dict[str, list[int]] = defaultdict(list)  # event id → timestamps (ms)
    stories: dict[str, list[str]] = defaultdict(list)  # order id → types, first copies only
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = json.loads(record.value)
        copies[event["id"]].append(record.timestamp)
        if len(copies[event["id"]]) == 1:
            stories[event["subject"]].append(event["type"])

    for order_id, order in ended.items():
        assert stories[order_id] in STORIES[order["status"]], (order_id, order, stories[order_id])
    twice = {event_id: sent for event_id, sent in copies.items() if len(sent) > 1}
    assert len(twice) <= BATCH_SIZE, twice
    for event_id, sent in twice.items():
        assert len(sent) == 2, (event_id, sent)
        assert sent[0] <= killed_by * 1000 and sent[1] >= killed_at * 1000, (event_id, sent)


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
