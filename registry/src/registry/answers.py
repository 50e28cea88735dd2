"""Reads at one change index share one answer, for a second.

A change wakes every watcher at once, and each would build the same answer:
with 10,000 instances that is some 80 ms of CPU for each, so a thousand
watchers would keep the registry from answering anything else, heartbeats
included, for over a minute. Instead the first read at an index builds the
answer, and reads at the same index within MAX_AGE_SECONDS send the same
bytes. Lease times in an answer may so be a second old; changes never are:
a new index is a new answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_AGE_SECONDS = 1.0

Build = Callable[[], tuple[int, bytes]]  # -> (index of the state it shows, body)


@dataclass(frozen=True)
class Answer:
    index: int
    body: bytes
    made_at: float


class SharedAnswers:
    def __init__(
        self, max_age_seconds: float = MAX_AGE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_age = max_age_seconds
        self._clock = clock
        self._answers: dict[str | None, Answer] = {}  # by service; None: all of them

    def answer(self, service: str | None, index: int, build: Build) -> Answer:
        """The answer about `service` at `index`: a recent one, or a new one from `build`."""
        now = self._clock()
        known = self._answers.get(service)
        if known is not None and known.index == index and now - known.made_at < self._max_age:
            return known
        built_index, body = build()
        fresh = Answer(built_index, body, now)
        # Keep only what may still be sent: services come and go.
        self._answers = {
            name: answer
            for name, answer in self._answers.items()
            if now - answer.made_at < self._max_age
        }
        self._answers[service] = fresh
        return fresh
