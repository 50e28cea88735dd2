"""A consumed record as the rules of docs/saga.md read it: plain fields,
not the client's message object, so processing.py and retries.py work the
same on a record read from Kafka and on one built by a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, TopicPartition


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    timestamp: int | None = None  # ms since the epoch, as the producer set it

    @classmethod
    def of(cls, message: Any) -> Record:
        kind, timestamp = message.timestamp()
        return cls(
            topic=message.topic(),
            partition=message.partition(),
            offset=message.offset(),
            key=message.key(),
            value=message.value(),
            headers=message.headers() or [],
            timestamp=None if kind == TIMESTAMP_NOT_AVAILABLE else timestamp,
        )

    def position(self) -> TopicPartition:
        """Where to seek to read this record again."""
        return TopicPartition(self.topic, self.partition, self.offset)


def fetched(consumer: Any, timeout: float, most: int = 500) -> Iterator[Any]:
    """Wait up to `timeout` seconds for one message, then take what else the
    client has fetched already, `most` in all. The client's `consume(n, t)`
    would wait out all of `t` for the n-th message."""
    first = consumer.poll(timeout)
    if first is not None:
        yield first
        yield from consumer.consume(most - 1, 0)
