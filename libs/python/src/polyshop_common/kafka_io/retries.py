"""Non-blocking retries (docs/saga.md, "Retries"): where a record goes when
its handling failed, and when its copy may be tried again.

Retrying in place would hold every later event of the partition behind one
that fails (a service away, a bug met by one event only). So the record is
copied to the next retry topic of its original topic and the partition moves
on; the copy carries, in headers, who retries it, when, and why every earlier
attempt failed. After the last configured delay it is parked for a person in
the original topic's dead-letter topic. The header names and reason texts are
a contract: the Node.js library writes and reads the same ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from polyshop_common.events import Contracts
from polyshop_common.kafka_io.processing import Outcome
from polyshop_common.kafka_io.producer import Producer

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]
RETRY_GROUP = "retry-group"
ATTEMPT = "attempt"
RETRY_DUE = "retry-due"
ORIGINAL = ("original-topic", "original-partition", "original-offset")
DEAD_LETTER = ("dlq-topic", "dlq-partition", "dlq-offset")


def header(record: Any, name: str) -> str | None:
    """The last value of a header (later ones win, as a reader of a dict sees it)."""
    found = None
    for key, value in record.headers or ():
        if key == name and value is not None:
            found = value.decode(errors="replace")
    return found


def with_headers(headers: Iterable[tuple[str, bytes]], updates: Mapping[str, str]) -> Headers:
    """`headers` with `updates` set: an older header of the same name is replaced."""
    kept = [(key, value) for key, value in headers or () if key not in updates]
    return kept + [(key, value.encode()) for key, value in updates.items()]


def reason_header(attempt: int) -> str:
    return f"attempt-{attempt}-reason"


def retry_headers(record: Any, *, group: str, level: int, reason: str, due_ms: int) -> Headers:
    """The headers of the copy of `record` (read at retry `level`, 0 = its own
    topic) that goes to retry level `level + 1`."""
    attempt = level + 1
    updates = {
        RETRY_GROUP: group,
        ATTEMPT: str(attempt + 1),
        RETRY_DUE: str(due_ms),
        reason_header(attempt): reason,
    }
    if level == 0:  # where the record was first read: set once, at the first retry
        updates |= dict(zip(ORIGINAL, first_read(record, level), strict=True))
    return with_headers(record.headers, updates)


def dead_letter_headers(
    record: Any, *, group: str, level: int, reason: str, extra: Mapping[str, str] | None = None
) -> Headers:
    """The headers of `record` (read at retry `level`) as a dead letter: its
    `dlq-*` coordinates are where it was first read."""
    where = dict(zip(DEAD_LETTER, first_read(record, level), strict=True))
    updates = {**(extra or {}), "dlq-reason": reason, **where, "dlq-group": group}
    return with_headers(record.headers, updates)


def first_read(record: Any, level: int) -> tuple[str, ...]:
    """Topic, partition and offset where a record read at retry `level` was first read."""
    own = (record.topic, str(record.partition), str(record.offset))
    if level == 0:
        return own
    return tuple(header(record, name) or mine for name, mine in zip(ORIGINAL, own, strict=True))


def due_ms(record: Any, delay: float) -> int:
    """When a retry record may be tried: its `retry-due`, but never later than
    `delay` (this consumer's own delay for its level) after it was written,
    so a far-future or missing `retry-due` cannot park a partition."""
    latest = max(record.timestamp or 0, 0) + round(delay * 1000)
    stated = header(record, RETRY_DUE)
    return min(int(stated), latest) if stated and stated.isdigit() else latest


class Pauses:
    """Partitions paused at a retry record not due yet, and when each is due."""

    def __init__(self) -> None:
        self._due: dict[Any, int] = {}

    def add(self, partition: Any, due_ms: int) -> None:
        self._due[partition] = due_ms

    def clear(self) -> None:
        self._due.clear()

    def __contains__(self, partition: Any) -> bool:
        return partition in self._due

    def take_due(self, now_ms: int) -> list[Any]:
        """The partitions due by now, forgotten here: the caller resumes them."""
        due = [partition for partition, at in self._due.items() if at <= now_ms]
        for partition in due:
            del self._due[partition]
        return due

    def wait_ms(self, now_ms: int, longest: int) -> int:
        """How long a poll may block without oversleeping the next due time."""
        return min([longest, *(at - now_ms for at in self._due.values())])


class Retries:
    """The retry topics and delays of one consumer group, and the producer
    that moves failed records along them."""

    def __init__(
        self,
        contracts: Contracts,
        group: str,
        delays: Sequence[float],
        producer: Producer,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(delays) > contracts.retry_levels:
            levels = contracts.retry_levels
            raise ValueError(f"{len(delays)} retry delays, but only {levels} retry levels")
        self.contracts = contracts
        self.group = group
        self.delays = tuple(delays)
        self.producer = producer
        self._clock = clock

    def topics(self, topics: Iterable[str]) -> list[str]:
        """`topics` and the retry topics of the levels this group has a delay for."""
        topics = list(topics)
        return topics + self.contracts.retry_topics(topics, len(self.delays))

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def foreign(self, record: Any) -> bool:
        """A retry record of another group: groups share retry topics."""
        group = header(record, RETRY_GROUP)
        return self._level(record) > 0 and group is not None and group != self.group

    def due_ms(self, record: Any) -> int | None:
        """When this retry record may be tried; None for a record of a main topic,
        and for another group's, which is skipped at once, never waited for."""
        level = self._level(record)
        if level == 0 or self.foreign(record):
            return None
        delay = self.delays[level - 1] if level <= len(self.delays) else 0.0
        return due_ms(record, delay)

    def retry(self, record: Any, reason: str) -> Outcome:
        """Move a record whose handling failed to its next retry topic, or
        dead-letter it after the last; PublishError if the broker refuses."""
        origin, level = self.contracts.origin_of(record.topic)
        attempt = level + 1
        if not self.delays:
            return self.dead_letter(record, reason)
        if attempt > len(self.delays):
            gave_up = f"gave up after {attempt} attempts: {reason}"
            return self.dead_letter(record, gave_up, {reason_header(attempt): reason})
        delay = self.delays[level]
        due = self.now_ms() + round(delay * 1000)
        headers = retry_headers(record, group=self.group, level=level, reason=reason, due_ms=due)
        topic = self.contracts.retry_topic(origin, attempt)
        self.producer.send_raw(topic, record.key, record.value, headers)
        log.info("attempt %d failed, next in %ss", attempt, delay, extra={"topic": topic})
        return Outcome.RETRY_SCHEDULED

    def dead_letter(
        self, record: Any, reason: str, extra: Mapping[str, str] | None = None
    ) -> Outcome:
        """Park a record in its original topic's dead-letter topic, with why and where from."""
        origin, level = self.contracts.origin_of(record.topic)
        headers = dead_letter_headers(
            record, group=self.group, level=level, reason=reason, extra=extra
        )
        topic = self.contracts.dead_letter_topic(origin)
        self.producer.send_raw(topic, record.key, record.value, headers)
        return Outcome.DEAD_LETTERED

    def _level(self, record: Any) -> int:
        return self.contracts.origin_of(record.topic)[1]
