"""The consumer loop: a daemon thread that polls, processes, commits, and
closes cleanly on `stop()`.

At-least-once, as in confluent-kafka's examples: a record's offset is
committed only after its work is durable. A record whose handler failed is
durable elsewhere once its copy is on a retry topic, so the partition moves
on; only when the broker refuses that copy does the loop seek back to the
record and retry it after a backoff. While the broker is unreachable at
start-up the loop keeps trying instead of crashing the service.

A retry copy read before it is due is not waited for in the loop, which
would stall every partition: its partition alone is paused, rewound to it,
and resumed when it is due, while the others keep flowing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from polyshop_common import db, faults
from polyshop_common.backoff import Backoff
from polyshop_common.errors import TransientError
from polyshop_common.events import Contracts
from polyshop_common.kafka_io import spans
from polyshop_common.kafka_io.commits import Commits
from polyshop_common.kafka_io.consumer_metrics import ConsumerMetrics
from polyshop_common.kafka_io.processing import Handler, Outcome, RecordProcessor
from polyshop_common.kafka_io.producer import Producer, reachable
from polyshop_common.kafka_io.records import Record, fetched
from polyshop_common.kafka_io.retries import Pauses, Retries
from polyshop_common.settings import DEFAULT_RETRY_DELAYS

log = logging.getLogger(__name__)

# librdkafka's names (its CONFIGURATION.md).
CONSUMER_SETTINGS = {
    "enable.auto.commit": False,  # we commit after the work is durable
    "auto.offset.reset": "earliest",  # a new group reads what was sent before it joined
    "session.timeout.ms": 6000,  # a crashed member is replaced within seconds
    "heartbeat.interval.ms": 2000,
    # What librdkafka fetches ahead, at most: a consumer far behind holds
    # this much of its backlog in memory, not the default 64 MiB.
    "queued.max.messages.kbytes": 8192,
}
BATCH = 500  # records taken from the client's queue at once, at most

Batches = dict[TopicPartition, list[Record]]


class ConsumerLoop:
    def __init__(
        self,
        *,
        topics: Iterable[str],
        group_id: str,
        handlers: Mapping[str, Handler],
        db_path: str | Path,
        bootstrap: str,
        contracts: Contracts,
        producer: Producer,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        expiry: bool = True,
        backoff: Backoff = Backoff(),
        poll_timeout_ms: int = 500,
        on_handled: Callable[[], None] = lambda: None,
    ) -> None:
        self.topics = list(topics)
        self.group_id = group_id
        self.handlers = handlers
        self.db_path = db_path
        self.bootstrap = bootstrap
        self.contracts = contracts
        self.producer = producer
        self.retries = Retries(contracts, group_id, retry_delays, producer)
        self.expiry = expiry  # False for a read model (see RecordProcessor)
        self._paused = Pauses()
        self._holding = False  # paused by the fault switch
        self._backoff = backoff
        self._poll_timeout_ms = poll_timeout_ms
        self._metrics = ConsumerMetrics(group_id)
        self._commits = Commits(group_id)
        # Called after a handler's transaction committed (it may have filled the outbox).
        self._on_handled = on_handled
        self._stop = threading.Event()
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"consumer-{group_id}", daemon=True)

    @property
    def running(self) -> bool:
        """Connected, subscribed and polling."""
        return self._running.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            consumer = self._connect()
            if consumer is None:
                if self._stop.wait(self._backoff.delay(attempt)):
                    return
                attempt += 1
                continue
            attempt = 0
            try:
                self._consume(consumer)
            except Exception:
                log.exception("consumer loop failed; reconnecting")
                self._stop.wait(self._backoff.delay(0))
            finally:
                self._running.clear()
                consumer.close()
                log.info("consumer closed", extra={"group": self.group_id})

    def _connect(self) -> Any:
        if not reachable(self.bootstrap):
            log.warning("Kafka unreachable at %s, will retry", self.bootstrap)
            return None
        topics = self.retries.topics(self.topics)
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": self.group_id,
                "client.id": self.group_id,
                **CONSUMER_SETTINGS,
                "on_commit": self._commits.answered,
            },
            logger=log,
        )
        try:
            consumer.subscribe(topics, on_revoke=self._revoked)
        except KafkaException as error:
            consumer.close()
            log.warning("Kafka refused the subscription, will retry: %s", error)
            return None
        log.info("consuming", extra={"group": self.group_id, "topics": topics})
        return consumer

    def _revoked(self, consumer: Any, _partitions: list[TopicPartition]) -> None:
        """Partitions given up in a rebalance: their next owner starts after
        what this loop has done (librdkafka calls this inside a poll)."""
        self._commits.flush(consumer)

    def _consume(self, consumer: Any) -> None:
        conn = db.connect(self.db_path)
        retries = self.retries
        processor = RecordProcessor(
            self.contracts,
            self.handlers,
            conn,
            retries.dead_letter,
            retries.retry,
            expiry=self.expiry,
        )
        self._paused.clear()  # a new consumer starts with no partition paused
        self._commits.reset()
        self._holding = False
        self._running.set()
        failures = 0
        try:
            while not self._stop.is_set():
                # Wake for the next paused partition due, or for pending offsets.
                timeout_ms = min(self._resume_due(consumer), self._commits.due_in() * 1000)
                if self._held(consumer):
                    self._put_back(consumer, self._poll(consumer, timeout_ms / 1000))
                    self._metrics.see(consumer)
                    continue
                batches = self._poll(consumer, timeout_ms / 1000)
                self._commits.send(consumer)  # offsets that waited for an answer or the interval
                done = self._process_batches(consumer, processor, batches)
                self._metrics.see(consumer)
                if done:
                    failures = 0
                    continue
                self._stop.wait(self._backoff.delay(failures))
                failures += 1
        finally:
            conn.close()
            self._commits.flush(consumer)

    def _poll(self, consumer: Any, timeout: float) -> Batches:
        """What one `fetched` brings, by partition in offset order."""
        batches: Batches = {}
        for message in fetched(consumer, timeout, BATCH):
            if error := message.error():
                if error.fatal():
                    raise KafkaException(error)
                # librdkafka reconnects and refetches by itself.
                log.warning("Kafka: %s", error, extra={"group": self.group_id})
                continue
            record = Record.of(message)
            batches.setdefault(TopicPartition(record.topic, record.partition), []).append(record)
        return batches

    def _held(self, consumer: Any) -> bool:
        """The `pause-consumer` fault switch: every partition paused while it is on.

        The consumer keeps polling, so it stays in its group; its lag grows.
        """
        if faults.on(faults.PAUSE_CONSUMER):
            if assigned := consumer.assignment():  # those assigned since are paused too
                consumer.pause(assigned)
            self._holding = True
        elif self._holding:
            consumer.resume([each for each in consumer.assignment() if each not in self._paused])
            self._holding = False
        return self._holding

    def _put_back(self, consumer: Any, batches: Batches) -> None:
        """Records fetched before the pause are read again after it."""
        for records in batches.values():
            consumer.seek(records[0].position())

    def _process_batches(self, consumer: Any, processor: RecordProcessor, batches: Batches) -> bool:
        """Process what one poll returned; False if a record must be retried in place."""
        all_done = True
        done: dict[TopicPartition, int] = {}  # the offset of the next record to read
        for partition, records in batches.items():
            for record in records:
                if self._stop.is_set():
                    break  # the rest is redelivered to whoever takes over
                due = self.retries.due_ms(record)
                if due is not None and due > self.retries.now_ms():
                    self._pause_until(consumer, partition, record, due)
                    break
                try:
                    outcome = self._process(processor, record)
                except TransientError as error:
                    log.warning(
                        "will retry: %s",
                        error,
                        extra={"topic": record.topic, "offset": record.offset},
                    )
                    consumer.seek(record.position())
                    all_done = False
                    break
                done[partition] = record.offset + 1
                if outcome is Outcome.HANDLED:
                    self._on_handled()
        # Committed after every record before it is durable: at-least-once,
        # without a broker round trip per record (commits.py).
        if done:
            self._commits.add(consumer, done)
        return all_done

    def _process(self, processor: RecordProcessor, record: Record) -> Outcome:
        if self.retries.foreign(record):
            log.debug("skipped another group's retry record", extra={"topic": record.topic})
            return Outcome.SKIPPED
        with spans.processing(record, self.group_id), self._metrics.timing(record.topic) as timed:
            timed.outcome = processor.process(record)
        return timed.outcome

    def _pause_until(
        self, consumer: Any, partition: TopicPartition, record: Record, due: int
    ) -> None:
        consumer.seek(record.position())  # read it again once resumed
        consumer.pause([partition])
        self._paused.add(partition, due)
        log.debug("retry record not due yet", extra={"topic": record.topic, "due": due})

    def _resume_due(self, consumer: Any) -> int:
        """Resume the paused partitions now due; return the poll timeout that
        wakes the loop for the next one."""
        now = self.retries.now_ms()
        # After a rebalance a partition may be someone else's: its new owner
        # reads the record again and pauses on its own.
        assigned = consumer.assignment()
        if due := [partition for partition in self._paused.take_due(now) if partition in assigned]:
            consumer.resume(due)
        return self._paused.wait_ms(now, self._poll_timeout_ms)
