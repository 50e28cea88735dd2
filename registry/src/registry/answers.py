"""Reads at one change index share one answer, for a second.

A change wakes every watcher at once, and each would build the same answer:
with 10,000 instances that is some 80 ms of CPU for each, so a thousand
watchers would keep the registry from answering anything else, heartbeats
included, for over a minute. Instead the first read at an index builds the
answer, and reads at the same index within MAX_AGE_SECONDS send the same
bytes. Lease times in an answer may so be a second old; changes never are:
a new index is a new answer. An answer is built again only if some lease
was renewed since (the store counts renewals): while nothing at all
changes, every read gets the same bytes, however old.

An answer is compressed once too, for the first reader that accepts gzip,
and the compressed bytes go to every later one: the whole registry of
10,000 instances is about 3 MB as JSON and a sixth of that gzipped, which
is what a watcher fleet sends over the network at every change.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from registry.models import Instance

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
    renewals: int = 0  # the store's count of renewals when it was built
    _gzipped: bytes | None = field(default=None, repr=False, compare=False)

    def gzipped(self) -> bytes:
        """The body gzip-compressed: made by the first reader that asks, kept for the others."""
        if self._gzipped is None:
            # mtime=0: the same body always compresses to the same bytes.
            self._gzipped = gzip.compress(self.body, compresslevel=GZIP_LEVEL, mtime=0)
        return self._gzipped


class Fragments:
    """Each instance's rendered bytes, kept while the instance is the same object.

    The store replaces an instance at every change, renewals included, so an
    instance unchanged since the last whole read is the very object rendered
    then. A whole read renders again only the instances renewed since, and
    joins the rest: with 10,000 instances, 120 ms of CPU rendering all of
    them became 12 ms with none renewed, about 70 ms with a fifth renewed
    (one second of heartbeats every 5 s).
    """

    def __init__(self, render: Callable[[Instance], bytes]) -> None:
        self._render = render
        self._kept: dict[tuple[str, str], tuple[Instance, bytes]] = {}

    def of(self, services: Mapping[str, list[Instance]]) -> dict[str, list[bytes]]:
        """Every service's instances rendered, from a whole read's snapshot."""
        kept: dict[tuple[str, str], tuple[Instance, bytes]] = {}
        rendered: dict[str, list[bytes]] = {}
        for service, instances in services.items():
            bodies = rendered[service] = []
            for instance in instances:
                key = (service, instance.instance_id)
                known = self._kept.get(key)
                body = known[1] if known and known[0] is instance else self._render(instance)
                kept[key] = (instance, body)
                bodies.append(body)
        self._kept = kept  # what this read held: gone instances are let go
        return rendered


class SharedAnswers:
    def __init__(
        self, max_age_seconds: float = MAX_AGE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_age = max_age_seconds
        self._clock = clock
        # By what was asked: a service's name, None for all of them, or a delta's key.
        self._answers: dict[Hashable, Answer] = {}
        self._fragments: dict[str, Fragments] = {}

    def fragments(self, shape: str, render: Callable[[Instance], bytes]) -> Fragments:
        """The instances of whole reads in one `shape` (a format), each kept rendered."""
        if shape not in self._fragments:
            self._fragments[shape] = Fragments(render)
        return self._fragments[shape]

    def answer(self, asked: Hashable, index: int, build: Build, renewals: int = 0) -> Answer:
        """The answer to `asked` at `index`: a recent one, one that no
        renewal since has made stale, or a new one from `build`."""
        now = self._clock()
        known = self._answers.get(asked)
        if (
            known is not None
            and known.index == index
            and (now - known.made_at < self._max_age or known.renewals == renewals)
        ):
            return known
        built_index, body = build()
        fresh = Answer(built_index, body, now, renewals)
        # Keep only what may still be sent: services come and go.
        self._answers = {
            key: answer
            for key, answer in self._answers.items()
            if now - answer.made_at < self._max_age or answer.renewals == renewals
        }
        self._answers[asked] = fresh
        return fresh
