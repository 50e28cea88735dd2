"""Dead letters (docs/saga.md, "Dead letters"): read the dead-letter topics,
and redrive a dead letter, once, to its original topic or to another one.

A dead letter is named by where it lies: `DLQTOPIC/PARTITION/OFFSET`. A
redrive republishes its key, value and headers as they were, less the
`dlq-*` headers (they describe the dead letter, not the event), plus
`redriven-from` naming it; then it records the redrive in the compacted
redrive topic, keyed by that name. That record is what refuses a second
redrive. A redrive that published but failed to record can be repeated:
the consumers are idempotent, so a second copy of an event changes nothing.

Every read goes without a consumer group (nothing is committed): assign the
partitions, seek, and poll until each position reaches the end offset taken
before the read.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from kafka.structs import TopicPartition

from polyshop_common.events import find_contracts_dir, utc_now
from polyshop_common.kafka_io.producer import MAX_REQUEST_BYTES, reachable

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
        self._producer: Any = None

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
            return sorted(t for t in self._reader().topics() if t.endswith(self.suffix))

    def letters(self, topic: str | None = None, limit: int | None = None) -> list[DeadLetter]:
        """The dead letters of one topic (`orders` or `orders.dlq`) or of all,
        oldest first; with `limit`, only the newest `limit` of them."""
        names = [self.dead_letter_topic(topic)] if topic else self.topics()
        with self._kafka():
            for name in names:
                if not self._partitions(name):
                    raise DeadLetterError(f"there is no topic {name} on {self.bootstrap}")
            partitions = [TopicPartition(t, p) for t in names for p in self._partitions(t)]
            starts = self._reader().beginning_offsets(partitions)
            ends = self._reader().end_offsets(partitions)
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
            start = self._reader().beginning_offsets([tp])[tp]
            end = self._reader().end_offsets([tp])[tp]
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
            starts = self._reader().beginning_offsets(partitions)
            found: dict[str, Redrive] = {}
            for record in self._read(starts, self._reader().end_offsets(partitions)):
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
            sent = self._send(target, dead.key, dead.value, dead.redrive_headers())
            done = Redrive(str(letter), target, sent.partition, sent.offset, utc_now())
            self._send(self.redrive_topic, str(letter).encode(), done.encode(), [])
            return done

    def dead_letter_topic(self, topic: str) -> str:
        return topic if topic.endswith(self.suffix) else topic + self.suffix

    def _letter(self, record: Any, redrives: Mapping[str, Redrive | None]) -> DeadLetter:
        letter = LetterId(record.topic, record.partition, record.offset)
        headers = tuple((key, value) for key, value in record.headers or ())
        return DeadLetter(
            letter, record.timestamp, record.key, record.value, headers, redrives.get(str(letter))
        )

    def _read(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> list[Any]:
        """The records from `starts` up to (not including) `ends`."""
        wanted = {tp: end for tp, end in ends.items() if starts[tp] < end}
        if not wanted:
            return []
        consumer = self._reader()
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, starts[tp])
        records: list[Any] = []
        deadline = time.monotonic() + self.timeout
        while any(consumer.position(tp) < end for tp, end in wanted.items()):
            if time.monotonic() > deadline:
                raise KafkaUnavailable(f"reading {sorted({tp.topic for tp in wanted})} stalled")
            for tp, batch in consumer.poll(timeout_ms=200).items():
                records.extend(r for r in batch if r.offset < wanted[tp])
                deadline = time.monotonic() + self.timeout  # a long topic may take longer
        return records

    def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> Any:
        future = self._writer().send(topic, key=key, value=value, headers=list(headers))
        return future.get(timeout=self.timeout)

    def _partitions(self, topic: str) -> set[int]:
        return self._reader().partitions_for_topic(topic) or set()

    @contextmanager
    def _kafka(self) -> Iterator[None]:
        try:
            yield
        except KafkaError as error:
            raise KafkaUnavailable(f"Kafka at {self.bootstrap} failed: {error!r}") from error

    def _reader(self) -> Any:
        if self._consumer is None:
            self._check_reachable()
            self._consumer = KafkaConsumer(**self._settings(), enable_auto_commit=False)
        return self._consumer

    def _writer(self) -> Any:
        if self._producer is None:
            self._check_reachable()
            self._producer = KafkaProducer(
                **self._settings(),
                acks="all",
                max_block_ms=int(self.timeout * 1000),
                max_request_size=MAX_REQUEST_BYTES,  # a dead letter may be as large as any record
            )
        return self._producer

    def _settings(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.bootstrap,
            "client_id": "polyshop-dead-letters",
            "bootstrap_timeout_ms": int(self.timeout * 1000),
            "allow_auto_create_topics": False,
        }

    def _check_reachable(self) -> None:
        # kafka-python leaves the sockets of a client that failed to bootstrap open.
        if not reachable(self.bootstrap):
            raise KafkaUnavailable(f"no Kafka broker answers at {self.bootstrap}")


def by_time(letter: DeadLetter) -> tuple[int, LetterId]:
    return (letter.timestamp_ms, letter.id)
