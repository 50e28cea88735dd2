"""Offsets committed at intervals, not after every poll.

A commit is a broker round trip and a record in `__consumer_offsets`: after
every poll, that was seven records per order at 50 orders a second, and a
round trip in every consumer loop between one batch and the next. Committing
at most every `COMMIT_EVERY` seconds keeps at-least-once as it was: an
offset is still committed only after its record's work is durable, and what
a crash gives to the next owner again (at most that interval's records) the
idempotent handlers make harmless. A loop commits what it has done when it
stops, and when it goes idle: a pending offset is due `COMMIT_EVERY` after
the last commit, and the loop's poll wakes for it.

An offset of a partition the group has since given to another member is
dropped, not committed: that member started from the last committed offset
and owns the partition's progress now. An offset the broker refused (a
rebalance in progress, most often) stays pending for the next try, so a
partition that goes quiet is not left behind its work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition

log = logging.getLogger(__name__)

COMMIT_EVERY = 0.2  # seconds
# The shortest poll while a commit waits. A poll that returns before a
# rejoin it started has finished can leave kafka-python's member rebalancing
# for good (it finishes the rejoin only inside a poll that still wants one),
# and every commit after that is refused; a poll of 0 ms, the moment a
# commit fell due, did.
SHORTEST_POLL_MS = 50


class Commits:
    """The offsets a consumer loop has done but not committed yet."""

    def __init__(
        self, every: float = COMMIT_EVERY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._every = every
        self._clock = clock
        self._pending: dict[TopicPartition, OffsetAndMetadata] = {}
        self._last = clock()

    def done(self, partition: TopicPartition, offset: int) -> None:
        """The record at `offset` and every one before it in `partition` are durable."""
        self._pending[partition] = OffsetAndMetadata(offset + 1, "", -1)

    def wait_ms(self, longest: int) -> int:
        """How long the loop may wait in a poll before a commit is due."""
        if not self._pending:
            return longest
        left = int((self._last + self._every - self._clock()) * 1000)
        return min(longest, max(SHORTEST_POLL_MS, left))

    def commit_if_due(self, consumer: Any) -> None:
        if self._pending and self._clock() - self._last >= self._every:
            self.commit(consumer)

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def commit(self, consumer: Any) -> bool:
        """Commit what is pending, now, for the partitions still assigned;
        False if the broker refused it."""
        assigned = consumer.assignment()
        offsets = {tp: at for tp, at in self._pending.items() if tp in assigned}
        self._pending = {}
        self._last = self._clock()
        if not offsets:
            return True
        try:
            consumer.commit(offsets)
        except KafkaError as error:  # CommitFailedError is one
            log.warning("offset commit failed, will try again: %s", error)
            self._pending = offsets
            return False
        return True
