"""Publishing events: JSON value, key = the order id, and the W3C context of
the record's `send` span in its headers (kafka_io/spans.py).

`send` returns only once the broker has the event on all in-sync replicas
(acks="all"), or raises `PublishError`; a caller that marks something "sent"
after `send` returned can rely on it. The client is librdkafka's (ADR 0012),
built by `connect()` or else on the first send, so a service starts even
while the broker is away.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

from confluent_kafka import KafkaException
from confluent_kafka import Producer as Client
from opentelemetry.context import Context
from opentelemetry.trace import Span

from polyshop_common.errors import TransientError
from polyshop_common.kafka_io import spans

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes]]
# The broker's message.max.bytes (tools/kafka/server.properties,
# docker-compose.yml). A client refuses records over 1 MiB by default, but a
# dead letter is a record as it was plus dlq-* headers: a record of 1 MiB
# must still fit once dead-lettered, or it would hold its partition.
MAX_REQUEST_BYTES = 2 * 1024 * 1024
# librdkafka's names (its CONFIGURATION.md).
PRODUCER_SETTINGS = {
    "acks": "all",
    # A retried batch cannot overtake a later one, nor be written twice.
    "enable.idempotence": True,
    "message.max.bytes": MAX_REQUEST_BYTES,
    # The Java client's partitioner, as kafkajs's (ADR 0003): one key, one
    # partition, whichever language publishes. librdkafka's own default
    # hashes with CRC32 and would put an order's events elsewhere.
    "partitioner": "murmur2_random",
    # Every hop of the saga waits for its ack: send at once rather than
    # wait 5 ms for company. Events that arrive while a request is in
    # flight still travel together.
    "linger.ms": 0,
}


class PublishError(TransientError):
    """The broker did not acknowledge the message in time."""


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def decode(value: bytes | None) -> Any:
    """The JSON value of a message; ValueError if it is none."""
    if value is None:
        raise ValueError("the message has no value")
    return json.loads(value)


def reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    """Does any bootstrap broker accept a TCP connection?

    Checked before building a client, so that a piece started while the
    broker is away fails its first publish at once instead of after the
    client's delivery timeout.
    """
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=timeout).close()
        except (OSError, ValueError):
            continue
        return True
    return False


class Delivered(NamedTuple):
    """Where the broker wrote a record."""

    partition: int
    offset: int


class Pending:
    """An event handed to the client, not yet acknowledged; its `send` span
    ends with the answer."""

    def __init__(self, topic: str, timeout: float, span: Span) -> None:
        self.topic = topic
        self._timeout = timeout
        self._span = span
        self._answered = threading.Event()
        self._error: KafkaException | None = None
        self._where = Delivered(-1, -1)

    def delivered(self, error: Any, message: Any) -> None:
        """The client's delivery report, in its polling thread."""
        if error is not None:
            self._error = KafkaException(error)
        else:
            self._where = Delivered(message.partition(), message.offset())
        self._answered.set()

    def wait(self) -> Delivered:
        """Return once the broker has the event (acks=all), saying where it
        is; raise PublishError if it has not."""
        # The client gives up after `timeout` (message.timeout.ms) and reports
        # that too; the margin covers the report's way back.
        if not self._answered.wait(self._timeout + 5.0):
            self.fail(KafkaException("no delivery report"))
        if self._error is not None:
            self.fail(self._error)
        spans.sent(self._span, *self._where)
        return self._where

    def fail(self, error: BaseException) -> None:
        spans.failed(self._span, error)
        self._span.end()
        raise PublishError(f"publishing to {self.topic} failed: {error}") from error


class Producer:
    def __init__(self, bootstrap: str, client_id: str, *, timeout: float = 10.0) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.timeout = timeout
        self._client: Any = None
        self._poller: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, topic: str, event: dict[str, Any], parent: Context | None = None) -> None:
        """Publish one event keyed by its subject (the order id) and wait for the ack."""
        self.send_nowait(topic, event, parent).wait()

    def send_nowait(
        self, topic: str, event: dict[str, Any], parent: Context | None = None
    ) -> Pending:
        """Hand one event to the client; `wait()` on the result for the ack.

        Several events sent before the first wait travel together, and the
        broker keeps their order within a partition (the client is
        idempotent: a retried batch cannot overtake a later one). Its `send`
        span is a child of `parent` (the outbox row's context), or else of
        the active span.
        """
        return self._send(topic, event["subject"].encode(), encode(event), [], parent)

    def send_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers
    ) -> Delivered:
        """Publish bytes as they are (the dead-letter path keeps key and value unchanged)."""
        return self._send(topic, key, value, headers).wait()

    def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        parent: Context | None = None,
    ) -> Pending:
        span = spans.start_send(topic, key, parent)
        pending = Pending(topic, self.timeout, span)
        try:
            self._producer().produce(
                topic,
                key=key,
                value=value,
                headers=spans.with_context_of(span, headers),
                on_delivery=pending.delivered,
            )
        except (KafkaException, BufferError, PublishError) as error:
            pending.fail(error)
        return pending

    def connect(self) -> None:
        """Build the client now rather than on the first publish, if a broker
        answers: an idempotent client's first publish also waits about half
        a second for the producer id the broker hands out."""
        try:
            self._producer()
        except PublishError as error:
            log.warning("Kafka not reachable yet, the first publish retries: %s", error)

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            client, poller = self._client, self._poller
            self._client = self._poller = None
        if client is not None:
            client.flush(timeout)  # what was handed over is delivered or reported
        if poller is not None:
            poller.join(timeout)

    def _producer(self) -> Any:
        with self._lock:
            if self._client is None:
                if not reachable(self.bootstrap):
                    raise PublishError(f"no broker answers at {self.bootstrap}")
                self._client = Client(
                    {
                        "bootstrap.servers": self.bootstrap,
                        "client.id": self.client_id,
                        # A publish fails (and the caller retries) after this
                        # long without the broker's ack.
                        "message.timeout.ms": int(self.timeout * 1000),
                        **PRODUCER_SETTINGS,
                    }
                )
                self._poller = threading.Thread(
                    target=self._serve_reports,
                    args=(self._client,),
                    name=f"producer-{self.client_id}",
                    daemon=True,
                )
                self._poller.start()
                log.info("connected to Kafka", extra={"bootstrap": self.bootstrap})
            return self._client

    def _serve_reports(self, client: Any) -> None:
        """Hand each delivery report to its Pending as soon as it comes:
        librdkafka runs the callbacks only inside `poll`."""
        while self._client is client:
            client.poll(0.5)
