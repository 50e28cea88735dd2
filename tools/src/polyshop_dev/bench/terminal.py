"""When each order became final, read from the `orders` topic.

orders publishes `order.confirmed` or `order.cancelled` (through its
outbox) in the transaction that finishes the order; the event's `time` is
that moment, stamped by orders with the machine's clock (milliseconds). The
benchmark runs on the same machine, so `time` minus the moment the POST was
due is the order's "placed → final" time, with no polling in between to blur
it. The moment the event reached this reader is kept too: it adds the outbox
relay and the broker, i.e. when other services can know.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from kafka import KafkaConsumer, TopicPartition

TOPIC = "orders"
FINAL_TYPES = {"order.confirmed", "order.cancelled"}


@dataclass(frozen=True)
class Final:
    type: str
    time: float  # the event's `time`: when the order became final
    received: float  # when this reader got it


class FinalEvents:
    """A reader of the whole `orders` topic in a thread of its own; no
    consumer group, so it commits nothing and disturbs no service."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        partitions = self._consumer.partitions_for_topic(TOPIC) or set()
        self._consumer.assign([TopicPartition(TOPIC, p) for p in sorted(partitions)])
        self._consumer.seek_to_beginning()
        self._lock = threading.Lock()
        self._finals: dict[str, Final] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="final-events", daemon=True)

    def __enter__(self) -> FinalEvents:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()

    def get(self, order_id: str) -> Final | None:
        with self._lock:
            return self._finals.get(order_id)

    def missing(self, order_ids: list[str]) -> list[str]:
        with self._lock:
            return [order_id for order_id in order_ids if order_id not in self._finals]

    def _run(self) -> None:
        while not self._stop.is_set():
            batches = self._consumer.poll(timeout_ms=100)
            received = time.time()
            for records in batches.values():
                for record in records:
                    self._take(json.loads(record.value), received)

    def _take(self, event: dict, received: float) -> None:
        if event.get("type") not in FINAL_TYPES:
            return
        became_final = datetime.fromisoformat(event["time"]).timestamp()
        with self._lock:
            self._finals.setdefault(event["subject"], Final(event["type"], became_final, received))
