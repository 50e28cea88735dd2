"""What a consumer loop measures (contracts/metrics.json): the time each
record takes and what became of it, the records moved to a dead-letter
topic, and its lag on every partition it holds.

Lag is read in the loop's own thread, after a poll, from what the client
already knows: the high watermark that came with the last fetch and the
position of the next record to read. A caught-up consumer keeps polling,
so its lag falls back to 0 without a call of its own to the broker. Read
at most every LAG_EVERY seconds: asking the client for each partition's
position after every poll was a tenth of a busy consumer's CPU, and a
scrape comes every few seconds at most.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from polyshop_common.kafka_io.processing import Outcome
from polyshop_common.metrics import metric

FAILED = "failed"  # retried in place: its hand-over to a retry topic failed
LAG_EVERY = 1.0  # seconds


@dataclass(slots=True)
class Timed:
    outcome: Outcome | None = None  # None: it raised


class ConsumerMetrics:
    def __init__(self, group: str) -> None:
        self.group = group
        self._duration = metric("messaging_process_duration_seconds")
        self._dead_letters = metric("polyshop_dead_letters_total")
        self._lag = metric("polyshop_consumer_lag_records")
        self._lag_read_at = float("-inf")

    @contextmanager
    def timing(self, topic: str) -> Iterator[Timed]:
        """Time the block; it sets `outcome` once it knows what became of the record."""
        timed = Timed()
        started = time.perf_counter()
        try:
            yield timed
        finally:
            elapsed = time.perf_counter() - started
            outcome = timed.outcome.value if timed.outcome else FAILED
            self._duration.labels(topic, self.group, outcome).observe(elapsed)
            if timed.outcome is Outcome.DEAD_LETTERED:
                self._dead_letters.labels(topic, self.group).inc()

    def see(self, consumer: Any) -> None:
        """Set the lag of each partition held whose high watermark is known,
        unless it was set less than LAG_EVERY seconds ago."""
        now = time.monotonic()
        if now - self._lag_read_at < LAG_EVERY:
            return
        self._lag_read_at = now
        assigned = consumer.assignment()
        for position in consumer.position(assigned) if assigned else ():
            # cached=True: the high watermark that came with the last fetch.
            _, end = consumer.get_watermark_offsets(position, cached=True)
            if end < 0 or position.offset < 0:
                continue  # nothing fetched from it yet
            self._lag.labels(position.topic, self.group, str(position.partition)).set(
                max(end - position.offset, 0)
            )
