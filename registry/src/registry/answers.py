"""Reads at one change index share one answer, for a second.

A change wakes every watcher at once, and each would build the same answer:
with 10,000 instances that is some 80 ms of CPU for each, so a thousand
watchers would keep the registry from answering anything else, heartbeats
included, for over a minute. Instead the first read at an index builds the
answer, and reads at the same index within MAX_AGE_SECONDS send the same
bytes. Lease times in an answer may so be a second old; changes never are:
a new index is a new answer.

An answer is compressed once too, for the first reader that accepts gzip,
and the compressed bytes go to every later one: the whole registry of
10,000 instances is about 3 MB as JSON and a sixth of that gzipped, which
is what a watcher fleet sends over the network at every change.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

MAX_AGE_SECONDS = 1.0
# The fastest level: an answer is compressed at each change of the
# registry, and level 6 (gzip's default) took three times as long for
# about a tenth fewer bytes.
GZIP_LEVEL = 1

Build = Callable[[], tuple[int, bytes]]  # -> (index of the state it shows, body)


@dataclass
class Answer:
    index: int
    body: bytes
    made_at: float
    _gzipped: bytes | None = field(default=None, repr=False, compare=False)

    def gzipped(self) -> bytes:
        """The body gzip-compressed: made by the first reader that asks, kept for the others."""
        if self._gzipped is None:
            # mtime=0: the same body always compresses to the same bytes.
            self._gzipped = gzip.compress(self.body, compresslevel=GZIP_LEVEL, mtime=0)
        return self._gzipped


class SharedAnswers:
    def __init__(
        self, max_age_seconds: float = MAX_AGE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_age = max_age_seconds
        self._clock = clock
        # By what was asked: a service's name, None for all of them, or a delta's key.
        self._answers: dict[Hashable, Answer] = {}

    def answer(self, asked: Hashable, index: int, build: Build) -> Answer:
        """The answer to `asked` at `index`: a recent one, or a new one from `build`."""
        now = self._clock()
        known = self._answers.get(asked)
        if known is not None and known.index == index and now - known.made_at < self._max_age:
            return known
        built_index, body = build()
        fresh = Answer(built_index, body, now)
        # Keep only what may still be sent: services come and go.
        self._answers = {
            key: answer
            for key, answer in self._answers.items()
            if now - answer.made_at < self._max_age
        }
        self._answers[asked] = fresh
        return fresh
