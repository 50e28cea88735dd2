"""Dead letters (docs/saga.md, "Dead letters"): read the dead-letter topics,
and redrive a dead letter, once, to its original topic or to another one.

A dead letter is named by where it lies: `DLQTOPIC/PARTITION/OFFSET`. A
redrive republishes its key, value and headers as they were, less the
`dlq-*` headers (they describe the dead letter, not the event), plus
`redriven-from` naming it, and with the trace context of its own `send`
span (kafka_io/spans.py); then it records the redrive in the compacted
redrive topic, keyed by that name. That record is what refuses a second
redrive. A redrive that published but failed to record can be repeated:
the consumers are idempotent, so a second copy of an event changes nothing.

Every read goes without a consumer group (nothing is committed): assign the
partitions, seek, and poll until each position reaches the end offset taken
before the read.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from polyshop_common.events import find_contracts_dir, utc_now
from polyshop_common.kafka_io.producer import Producer, PublishError, reachable
from polyshop_common.kafka_io.records import Record, fetched

CLIENT_ID = "polyshop-dead-letters"
# Errors of a topic just made, gone once the broker has settled its leader.
PASSING = {
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError._TIMED_OUT,
}
T = TypeVar("T")
DLQ_PREFIX = "dlq-"
REDRIVEN_FROM = "redriven-from"
Headers = tuple[tuple[str, bytes], ...]
# Kafka's legal topic characters, then the partition and the offset.
LETTER_ID = re.compile(r"([A-Za-z0-9._-]+)/(\d+)/(\d+)")


class DeadLetterError(Exception):
    """A failure whose message tells a person what happened."""


class BadLetterId(DeadLetterError, ValueError):
    """Not of the form DLQTOPIC/PARTITION/OFFSET."""


class UnknownDeadLetter(DeadLetterError):
    """No dead letter lies there (or the topic named is not a dead-letter topic)."""


class AlreadyRedriven(DeadLetterError):
    def __init__(self, redrive: Redrive) -> None:
        super().__init__(
            f"{redrive.letter} was redriven already, to {redrive.target} at {redrive.time}"
        )
        self.redrive = redrive


class KafkaUnavailable(DeadLetterError):
    """The broker cannot be reached, or failed the request."""


@dataclass(frozen=True, order=True)
class LetterId:
    topic: str
    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> LetterId:
        match = LETTER_ID.fullmatch(text.strip())
        if match is None:
            raise BadLetterId(f"{text!r} is not a dead letter's id: DLQTOPIC/PARTITION/OFFSET")
        topic, partition, offset = match.groups()
        return cls(topic, int(partition), int(offset))

    def __str__(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True)
class Redrive:
    """A redrive's record: which dead letter went where, and when."""

    letter: str
    topic: str
    partition: int
    offset: int
    time: str

    @property
    def target(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    def encode(self) -> bytes:
        fields = {"topic": self.topic, "partition": self.partition, "offset": self.offset}
        return json.dumps(fields | {"time": self.time}).encode()

    @classmethod
    def decode(cls, key: bytes, value: bytes) -> Redrive:
        fields = json.loads(value)
        return cls(
            key.decode(), fields["topic"], fields["partition"], fields["offset"], fields["time"]
        )


@dataclass(frozen=True)
class DeadLetter:
    id: LetterId
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    redrive: Redrive | None = None

    def header(self, name: str) -> str | None:
        """The last value of a header, as text."""
        found = None
        for key, value in self.headers:
            if key == name and value is not None:
                found = value.decode(errors="replace")
        return found

    @property
    def reason(self) -> str | None:
        return self.header("dlq-reason")

    @property
    def group(self) -> str | None:
        return self.header("dlq-group")

    @property
    def origin(self) -> str | None:
        """The topic it was dead-lettered from, where a redrive sends it."""
        return self.header("dlq-topic")

    def redrive_headers(self) -> list[tuple[str, bytes]]:
        """Its headers less the `dlq-*` ones, with `redriven-from` naming it
        (replacing the one of an earlier redrive)."""
        kept = [
            (key, value)
            for key, value in self.headers
            if not key.startswith(DLQ_PREFIX) and key != REDRIVEN_FROM
        ]
        return [*kept, (REDRIVEN_FROM, str(self.id).encode())]


class DeadLetters:
    """The dead letters of one broker: `letters`, `get`, `redriven`, `redrive`."""

    def __init__(
        self,
        bootstrap: str,
        *,
        suffix: str = ".dlq",
        redrive_topic: str = "dead-letters.redriven",
        timeout: float = 10.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.suffix = suffix
        self.redrive_topic = redrive_topic
        self.timeout = timeout
        self._consumer: Any = None
        self._producer: Producer | None = None

    @classmethod
    def from_contracts(cls, bootstrap: str, contracts_dir: Path | None = None) -> DeadLetters:
        """Named as contracts/topics.json names the dead-letter and redrive topics."""
        directory = contracts_dir or find_contracts_dir()
        if directory is None:
            raise DeadLetterError("no contracts/ folder found: pass its path")
        topics = json.loads((directory / "topics.json").read_text())
        return cls(
            bootstrap, suffix=topics["dead_letter_suffix"], redrive_topic=topics["redrive_topic"]
        )

    def __enter__(self) -> DeadLetters:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                client.close()
        self._consumer = self._producer = None

    def topics(self) -> list[str]:
        """Every dead-letter topic of the broker."""
        with self._kafka():
            listed = self._reader().list_topics(timeout=self.timeout).topics
            return sorted(t for t in listed if t.endswith(self.suffix))

    def letters(self, topic: str | None = None, limit: int | None = None) -> list[DeadLetter]:
        """The dead letters of one topic (`orders` or `orders.dlq`) or of all,
        oldest first; with `limit`, only the newest `limit` of them."""
        names = [self.dead_letter_topic(topic)] if topic else self.topics()
        with self._kafka():
            for name in names:
                if not self._partitions(name):
                    raise DeadLetterError(f"there is no topic {name} on {self.bootstrap}")
            partitions = [TopicPartition(t, p) for t in names for p in self._partitions(t)]
            starts, ends = self._bounds(partitions)
            if limit is not None:  # the newest `limit` overall are among the last `limit` of each
                starts = {tp: max(start, ends[tp] - limit) for tp, start in starts.items()}
            records = self._read(starts, ends)
            redrives = self.redrives()
        found = sorted((self._letter(r, redrives) for r in records), key=by_time)
        return found[-limit:] if limit is not None else found

    def get(self, letter: LetterId) -> DeadLetter:
        """One dead letter, with its redrive if it had one; UnknownDeadLetter if none lies there."""
        with self._kafka():
            if not letter.topic.endswith(self.suffix):
                raise UnknownDeadLetter(f"{letter.topic} is not a dead-letter topic")
            partitions = self._partitions(letter.topic)
            if not partitions:
                raise UnknownDeadLetter(f"there is no topic {letter.topic} on {self.bootstrap}")
            if letter.partition not in partitions:
                raise UnknownDeadLetter(f"{letter.topic} has no partition {letter.partition}")
            tp = TopicPartition(letter.topic, letter.partition)
            [start], [end] = (bound.values() for bound in self._bounds([tp]))
            in_range = start <= letter.offset < end
            records = self._read({tp: letter.offset}, {tp: letter.offset + 1}) if in_range else []
            if not records:
                held = f"it holds offsets {start}..{end - 1}" if start < end else "it is empty"
                raise UnknownDeadLetter(f"no dead letter at {letter}: {held}")
            return self._letter(records[0], {str(letter): self.redriven(letter)})

    def redrives(self) -> dict[str, Redrive]:
        """Every redrive recorded, by dead letter; none if the redrive topic is missing."""
        with self._kafka():
            partitions = [
                TopicPartition(self.redrive_topic, p) for p in self._partitions(self.redrive_topic)
            ]
            found: dict[str, Redrive] = {}
            for record in self._read(*self._bounds(partitions)):
                if record.value is None:  # a tombstone: the redrive was forgotten
                    found.pop(record.key.decode(), None)
                else:
                    found[record.key.decode()] = Redrive.decode(record.key, record.value)
            return found

    def redriven(self, letter: LetterId) -> Redrive | None:
        return self.redrives().get(str(letter))

    def redrive(self, letter: LetterId, *, to: str | None = None, again: bool = False) -> Redrive:
        """Republish a dead letter to its original topic (or `to`), once
        unless `again`; return the redrive's record."""
        with self._kafka():
            self._writer().connect()  # its producer id comes while the letter is read
        dead = self.get(letter)
        if dead.redrive is not None and not again:
            raise AlreadyRedriven(dead.redrive)
        target = to or dead.origin
        if not target:
            raise DeadLetterError(f"{letter} has no dlq-topic header: name a topic to send it to")
        with self._kafka():
            for topic in (target, self.redrive_topic):
                if not self._partitions(topic):
                    raise DeadLetterError(f"there is no topic {topic} on {self.bootstrap}")
            writer = self._writer()
            sent = writer.send_raw(target, dead.key, dead.value, dead.redrive_headers())
            done = Redrive(str(letter), target, sent.partition, sent.offset, utc_now())
            writer.send_raw(self.redrive_topic, str(letter).encode(), done.encode(), [])
            return done

    def dead_letter_topic(self, topic: str) -> str:
        return topic if topic.endswith(self.suffix) else topic + self.suffix

    def _letter(self, record: Record, redrives: Mapping[str, Redrive | None]) -> DeadLetter:
        letter = LetterId(record.topic, record.partition, record.offset)
        timestamp = -1 if record.timestamp is None else record.timestamp
        return DeadLetter(
            letter,
            timestamp,
            record.key,
            record.value,
            tuple(record.headers),
            redrives.get(str(letter)),
        )

    def _bounds(
        self, partitions: Sequence[TopicPartition]
    ) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        """Each partition's first offset, and the offset its next record will get."""
        starts, ends = {}, {}
        reader = self._reader()
        for tp in partitions:
            starts[tp], ends[tp] = self._retrying(
                functools.partial(reader.get_watermark_offsets, tp, timeout=self.timeout)
            )
        return starts, ends

    def _retrying(self, call: Callable[[], T]) -> T:
        """`call()`, again while it fails for a reason that passes (a topic
        just made, whose leader the client has not learnt yet), until the
        timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return call()
            except KafkaException as error:
                passing = error.args[0].retriable() or error.args[0].code() in PASSING
                if not passing or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def _read(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> list[Record]:
        """The records from `starts` up to (not including) `ends`."""
        wanted = {tp: end for tp, end in ends.items() if starts[tp] < end}
        if not wanted:
            return []
        consumer = self._reader()
        consumer.assign([TopicPartition(tp.topic, tp.partition, starts[tp]) for tp in wanted])
        at = {tp: starts[tp] for tp in wanted}  # the next offset to read, per partition
        records: list[Record] = []
        deadline = time.monotonic() + self.timeout
        try:
            while any(at[tp] < end for tp, end in wanted.items()):
                if time.monotonic() > deadline:
                    stalled = sorted({tp.topic for tp in wanted})
                    raise KafkaUnavailable(f"reading {stalled} stalled")
                for message in fetched(consumer, 0.2):
                    if message.error():
                        raise KafkaException(message.error())
                    record = Record.of(message)
                    tp = TopicPartition(record.topic, record.partition)
                    if record.offset < wanted[tp]:
                        records.append(record)
                    at[tp] = record.offset + 1
                    deadline = time.monotonic() + self.timeout  # a long topic may take longer
        finally:
            consumer.unassign()
        return records

    def _partitions(self, topic: str) -> set[int]:
        def partitions() -> set[int]:
            found = self._reader().list_topics(topic, timeout=self.timeout).topics.get(topic)
            if found is None or found.error is None:
                return set(found.partitions) if found else set()
            if found.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return set()
            raise KafkaException(found.error)

        return self._retrying(partitions)

    @contextmanager
    def _kafka(self) -> Iterator[None]:
        try:
            yield
        except (KafkaException, PublishError) as error:
            raise KafkaUnavailable(f"Kafka at {self.bootstrap} failed: {error}") from error

    def _reader(self) -> Any:
        if self._consumer is None:
            self._check_reachable()
            self._consumer = Consumer(
                {
                    "bootstrap.servers": self.bootstrap,
                    "client.id": CLIENT_ID,
                    # Required by the client; no partition is subscribed and
                    # nothing is committed under it (every read assigns).
                    "group.id": CLIENT_ID,
                    "enable.auto.commit": False,
                    # Each read assigns anew and knows where it ends: a fetch
                    # left waiting for data would hold up the next read.
                    "fetch.wait.max.ms": 10,
                }
            )
        return self._consumer

    def _writer(self) -> Producer:
        if self._producer is None:
            self._check_reachable()
            self._producer = Producer(self.bootstrap, CLIENT_ID, timeout=self.timeout)
        return self._producer

    def _check_reachable(self) -> None:
        # A clear answer at once, not a timeout after the client tried for a while.
        if not reachable(self.bootstrap):
            raise KafkaUnavailable(f"no Kafka broker answers at {self.bootstrap}")


def by_time(letter: DeadLetter) -> tuple[int, LetterId]:
    return (letter.timestamp_ms, letter.id)
