"""The consumer loop: a daemon thread that polls, processes, commits, and
closes cleanly on `stop()`.

At-least-once, as in confluent-kafka's examples: a record's offset is
committed only after its work is durable; a transient failure seeks back to
the record and retries it after a backoff. While the broker is unreachable
at start-up the loop keeps trying instead of crashing the service.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition

from polyshop_common import db
from polyshop_common.backoff import Backoff
from polyshop_common.errors import TransientError
from polyshop_common.events import Contracts
from polyshop_common.kafka_io.processing import Handler, Outcome, RecordProcessor
from polyshop_common.kafka_io.producer import Producer, reachable

log = logging.getLogger(__name__)

CONSUMER_SETTINGS = {
    "enable_auto_commit": False,  # we commit after the work is durable
    "auto_offset_reset": "earliest",  # a new group reads what was sent before it joined
    "session_timeout_ms": 6000,  # a crashed member is replaced within seconds
    "heartbeat_interval_ms": 2000,
    "bootstrap_timeout_ms": 5000,  # fail fast at start-up; the loop retries
}


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
        backoff: Backoff = Backoff(),
        poll_timeout_ms: int = 500,
        consumer_factory: Callable[..., Any] = KafkaConsumer,
        on_handled: Callable[[], None] = lambda: None,
    ) -> None:
        self.topics = list(topics)
        self.group_id = group_id
        self.handlers = handlers
        self.db_path = db_path
        self.bootstrap = bootstrap
        self.contracts = contracts
        self.producer = producer
        self._backoff = backoff
        self._poll_timeout_ms = poll_timeout_ms
        self._factory = consumer_factory
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
        try:
            consumer = self._factory(
                *self.topics,
                bootstrap_servers=self.bootstrap,
                group_id=self.group_id,
                client_id=self.group_id,
                **CONSUMER_SETTINGS,
            )
        except KafkaError as error:
            log.warning("Kafka unreachable, will retry: %s", error)
            return None
        log.info("consuming", extra={"group": self.group_id, "topics": self.topics})
        return consumer

    def _consume(self, consumer: Any) -> None:
        conn = db.connect(self.db_path)
        processor = RecordProcessor(self.contracts, self.handlers, conn, self._dead_letter)
        self._running.set()
        failures = 0
        try:
            while not self._stop.is_set():
                batches = consumer.poll(timeout_ms=self._poll_timeout_ms)
                if self._process_batches(consumer, processor, batches):
                    failures = 0
                    continue
                self._stop.wait(self._backoff.delay(failures))
                failures += 1
        finally:
            conn.close()

    def _process_batches(self, consumer: Any, processor: RecordProcessor, batches: dict) -> bool:
        """Process what one poll returned; False if a record must be retried."""
        all_done = True
        done: dict[TopicPartition, OffsetAndMetadata] = {}
        for partition, records in batches.items():
            for record in records:
                if self._stop.is_set():
                    break  # the rest is redelivered to whoever takes over
                try:
                    outcome = processor.process(record)
                except TransientError as error:
                    log.warning(
                        "will retry: %s",
                        error,
                        extra={"topic": record.topic, "offset": record.offset},
                    )
                    consumer.seek(partition, record.offset)
                    all_done = False
                    break
                done[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
                if outcome is Outcome.HANDLED:
                    self._on_handled()
        # One commit per poll, for every partition, after every record before
        # it is durable: at-least-once, without a broker round trip per record.
        if done:
            self._commit(consumer, done)
        return all_done

    def _commit(self, consumer: Any, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        try:
            consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as error:
            # The work is durable and idempotent: a redelivery after this changes nothing.
            log.warning("offset commit failed: %s", error)

    def _dead_letter(self, record: Any, reason: str) -> None:
        headers = [
            *(record.headers or ()),
            ("dlq-reason", reason.encode()),
            ("dlq-topic", record.topic.encode()),
            ("dlq-partition", str(record.partition).encode()),
            ("dlq-offset", str(record.offset).encode()),
            ("dlq-group", self.group_id.encode()),
        ]
        topic = self.contracts.dead_letter_topic(record.topic)
        self.producer.send_raw(topic, record.key, record.value, headers)
