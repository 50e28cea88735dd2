"""The Kafka spans (docs/observability.md), with the messaging semantic
conventions: `send {topic}` for every publish, `process {topic}` around each
consumed record's work.

A record carries the W3C context of its `send` span in its headers, and the
`process` span is that span's child, not only linked to it: Zipkin keeps no
links, and a link alone would split one order into several traces.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from polyshop_common.telemetry import tracer

TRACE_HEADERS = ("traceparent", "tracestate")


def _base(topic: str, operation: str) -> dict[str, Any]:
    return {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": topic,
    }


def _key_attribute(key: bytes | None) -> dict[str, str]:
    try:
        return {"messaging.kafka.message.key": key.decode()} if key else {}
    except UnicodeDecodeError:
        return {}


def start_send(topic: str, key: bytes | None, parent: context.Context | None = None) -> Span:
    """The span of one publish, child of `parent` (the active context if None)."""
    attributes = _base(topic, "send") | _key_attribute(key)
    return tracer().start_span(
        f"send {topic}", context=parent, kind=SpanKind.PRODUCER, attributes=attributes
    )


def with_context_of(span: Span, headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """`headers` with the span's W3C context in place of any they carried;
    as they were where nothing traces (a tool without the SDK set up)."""
    if not span.get_span_context().is_valid:
        return list(headers)
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    kept = [(name, value) for name, value in headers if name not in TRACE_HEADERS]
    return kept + [(name, value.encode()) for name, value in carrier.items()]


def sent(span: Span, partition: int, offset: int) -> None:
    """The broker acknowledged the record: where it is."""
    span.set_attribute("messaging.destination.partition.id", str(partition))
    span.set_attribute("messaging.kafka.offset", offset)
    span.end()


def failed(span: Span, error: BaseException | None, reason: str | None = None) -> None:
    """The span's work failed: with the exception if there is one, and the
    reason as the dead-letter headers word it if given."""
    if error is not None:
        span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, reason or str(error)))


def context_of(headers: Sequence[tuple[str, bytes]] | None) -> context.Context:
    """The context a record's headers carry (a fresh root's if none)."""
    carrier = {}
    for name, value in headers or ():
        if name in TRACE_HEADERS and value:
            carrier[name] = value.decode(errors="replace")
    return propagate.extract(carrier)


@contextmanager
def processing(record: Any, group: str) -> Iterator[Span]:
    """The `process` span of one record, the active span inside the block."""
    attributes = _base(record.topic, "process") | _key_attribute(record.key)
    attributes |= {
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.offset": record.offset,
        "messaging.consumer.group.name": group,
    }
    with tracer().start_as_current_span(
        f"process {record.topic}",
        context=context_of(record.headers),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    ) as span:
        yield span


def mark_failed(reason: str, error: BaseException | None = None) -> None:
    """The active span's work failed (a handler, or a record dead-lettered)."""
    failed(trace.get_current_span(), error, reason)
