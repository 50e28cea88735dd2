"""Publishing events: JSON value, key = the order id, and the W3C context of
the record's `send` span in its headers (kafka_io/spans.py).

`send` returns only once the broker has the event on all in-sync replicas
(acks="all"), or raises `PublishError`; a caller that marks something "sent"
after `send` returned can rely on it. The client is built on the first send,
so a service starts even while the broker is away.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaConnectionError, KafkaError
from opentelemetry.context import Context
from opentelemetry.trace import Span

from polyshop_common.errors import TransientError
from polyshop_common.kafka_io import spans

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes]]
# The broker's message.max.bytes (tools/kafka/server.properties,
# docker-compose.yml). kafka-python refuses records over 1 MiB by default,
# but a dead letter is a record as it was plus dlq-* headers: a record of
# 1 MiB must still fit once dead-lettered, or it would hold its partition.
MAX_REQUEST_BYTES = 2 * 1024 * 1024


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

    Checked before building a client: kafka-python leaves the sockets of a
    client that failed to bootstrap open, and a retry loop would pile them up.
    """
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=timeout).close()
        except (OSError, ValueError):
            continue
        return True
    return False


class Pending:
    """An event handed to the client, not yet acknowledged; its `send` span
    ends with the answer."""

    def __init__(self, topic: str, future: Any, timeout: float, span: Span) -> None:
        self.topic = topic
        self._future = future
        self._timeout = timeout
        self._span = span

    def wait(self) -> None:
        """Return once the broker has the event (acks=all); raise PublishError if not."""
        try:
            metadata = self._future.get(timeout=self._timeout)
        except KafkaError as error:
            spans.failed(self._span, error)
            self._span.end()
            raise PublishError(f"publishing to {self.topic} failed: {error}") from error
        spans.sent(self._span, metadata)


class Producer:
    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        *,
        timeout: float = 10.0,
        factory: Callable[..., Any] = KafkaProducer,
    ) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.timeout = timeout
        self._factory = factory
        self._client: Any = None
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
    ) -> None:
        """Publish bytes as they are (the dead-letter path keeps key and value unchanged)."""
        self._send(topic, key, value, headers).wait()

    def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        parent: Context | None = None,
    ) -> Pending:
        span = spans.start_send(topic, key, parent)
        try:
            future = self._producer().send(
                topic, key=key, value=value, headers=spans.with_context_of(span, headers)
            )
        except KafkaError as error:
            spans.failed(span, error)
            span.end()
            raise PublishError(f"publishing to {topic} failed: {error}") from error
        return Pending(topic, future, self.timeout, span)

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close(timeout=timeout)
                self._client = None

    def _producer(self) -> Any:
        with self._lock:
            if self._client is None:
                if not reachable(self.bootstrap):
                    raise KafkaConnectionError(f"no broker answers at {self.bootstrap}")
                self._client = self._factory(
                    bootstrap_servers=self.bootstrap,
                    client_id=self.client_id,
                    acks="all",
                    max_request_size=MAX_REQUEST_BYTES,
                    # Fail fast (and let the caller retry) while the broker is away.
                    bootstrap_timeout_ms=int(self.timeout * 1000),
                    max_block_ms=int(self.timeout * 1000),
                    metrics_enabled=False,  # as the consumer's (consumer.py)
                )
                log.info("connected to Kafka", extra={"bootstrap": self.bootstrap})
            return self._client
