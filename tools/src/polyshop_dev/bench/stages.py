"""Where an order's time goes: the saga hop by hop, from the events themselves.

Every event carries two moments: its `time`, stamped by the service that
emitted it in the transaction of the change, and its Kafka record
timestamp, set when the outbox relay handed it to the producer. Between
them is the relay; between one event's record timestamp and the next
event's `time` is the next service's consumer (fetch, validation, handler,
commit). Read after the load from the three topics, so measuring costs the
shop nothing while it runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from datetime import datetime

from kafka import KafkaConsumer, TopicPartition

TOPICS = ("orders", "inventory", "payments")
Stamp = tuple[float, float]  # (the event's `time`, its record timestamp), in seconds

# In the order an order goes through them; confirmed orders pass all of them,
# orders cancelled for want of stock skip the payment.
STAGES = (
    "POST due -> order stored (gateway, orders, catalog)",
    "orders relay: stored -> published",
    "inventory consumer: order.created published -> stock decided",
    "inventory relay: decided -> published",
    "payments consumer: inventory.reserved published -> payment decided",
    "payments relay: decided -> published",
    "orders consumer: last event published -> order final",
)


def read_events(bootstrap: str, timeout: float = 60.0) -> dict[str, dict[str, Stamp]]:
    """Every event of the saga's topics so far, by order id and type."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in TOPICS
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        events: dict[str, dict[str, Stamp]] = {}
        deadline = time.monotonic() + timeout
        while any(consumer.position(p) < ends[p] for p in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read the saga's topics within {timeout:.0f} s")
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    take(events, record.value, record.timestamp)
        return events
    finally:
        consumer.close()


def take(events: dict[str, dict[str, Stamp]], value: bytes, timestamp_ms: int) -> None:
    try:
        event = json.loads(value)
        stamped = datetime.fromisoformat(event["time"]).timestamp()
        events.setdefault(event["subject"], {})[event["type"]] = (stamped, timestamp_ms / 1000)
    except (ValueError, KeyError, TypeError):
        return  # not a saga event (a poison message of a test): not part of any order


def stage_delays(
    events: Mapping[str, Mapping[str, Stamp]], due: Mapping[str, float]
) -> dict[str, list[float]]:
    """Seconds spent in each stage, per order that got that far."""
    delays: dict[str, list[float]] = {stage: [] for stage in STAGES}

    def add(stage: int, seconds: float) -> None:
        delays[STAGES[stage]].append(seconds)

    for order_id, planned in due.items():
        seen = events.get(order_id, {})
        created = seen.get("order.created")
        if created is None:
            continue
        add(0, created[0] - planned)
        add(1, created[1] - created[0])
        stock = _first(seen, ("inventory.reserved", "inventory.rejected"))
        if stock is None:
            continue
        add(2, stock[0] - created[1])
        add(3, stock[1] - stock[0])
        last = stock
        payment = _first(seen, ("payment.authorized", "payment.declined"))
        if payment is not None:
            add(4, payment[0] - stock[1])
            add(5, payment[1] - payment[0])
            last = payment
        final = _first(seen, ("order.confirmed", "order.cancelled"))
        if final is not None:
            add(6, final[0] - last[1])
    return delays


def _first(seen: Mapping[str, Stamp], types: Iterable[str]) -> Stamp | None:
    return next((seen[kind] for kind in types if kind in seen), None)
