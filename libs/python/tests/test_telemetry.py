"""Traces (docs/observability.md) as the library makes them: the set-up's
choices, trace ids in log lines, and the Kafka spans of a real round trip
(outbox row → relay's `send` → consumer's `process` → dead letter).

The spans are collected in memory from the process's own tracer provider;
the work that makes them is real: a broker, SQLite files, the relay and the
consumer loop."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from polyshop_common import db, outbox, telemetry
from polyshop_common.events import new_event
from polyshop_common.kafka_io import ConsumerLoop, Producer
from polyshop_common.logs import JsonFormatter

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
# A sampled caller: spans under it record, whatever the process's sampler.
SAMPLED = {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}


@pytest.fixture(scope="module")
def exported():
    """Every span this process ends from now on, kept in memory."""
    memory = InMemorySpanExporter()
    telemetry.start_tracing("telemetry-test").add_span_processor(SimpleSpanProcessor(memory))
    return memory


def in_trace(exported, trace_id: str = TRACE_ID) -> list:
    return [s for s in exported.get_finished_spans() if f"{s.context.trace_id:032x}" == trace_id]


def test_an_unknown_exporter_stops_the_start_naming_the_known_ones(monkeypatch):
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "jaeger-thrift")
    with pytest.raises(ValueError, match="expected one of console, none, otlp"):
        telemetry._build_provider("orders")


def test_with_no_exporter_a_root_is_not_sampled_but_has_ids(monkeypatch):
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    tracer = telemetry._build_provider("orders").get_tracer("test")
    with tracer.start_as_current_span("root") as root:
        context = root.get_span_context()
        assert context.is_valid and not context.trace_flags.sampled
        assert not root.is_recording()
    with telemetry.within(SAMPLED), tracer.start_as_current_span("child") as child:
        assert f"{child.get_span_context().trace_id:032x}" == TRACE_ID
        assert child.get_span_context().trace_flags.sampled  # passed on as it came


def test_with_the_sdk_disabled_nothing_is_set_up(monkeypatch):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert telemetry.start_tracing("orders") is None


def test_a_server_span_can_be_named_after_the_apps_own_route(exported):
    with telemetry.within(SAMPLED), telemetry.tracer().start_as_current_span("GET /<x>"):
        telemetry.name_server_span("POST", "/api/orders")
    (span,) = [s for s in in_trace(exported) if s.attributes.get("http.route") == "/api/orders"]
    assert span.name == "POST /api/orders"


def log_line(message: str) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("orders"))
    logger = logging.getLogger(f"test-{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.warning(message)
    return json.loads(stream.getvalue())


def test_a_log_line_inside_a_span_names_its_trace_and_span(exported):
    with telemetry.within(SAMPLED), telemetry.tracer().start_as_current_span("work") as span:
        line = log_line("inside")
    assert line["trace_id"] == TRACE_ID
    assert line["span_id"] == f"{span.get_span_context().span_id:016x}"
    assert "trace_id" not in log_line("outside")


@pytest.fixture
def topic(create_topics, contracts):
    name = f"traced-{uuid.uuid4().hex[:8]}"
    create_topics(name, contracts.dead_letter_topic(name), *contracts.retry_topics([name]))
    return name


def fail(event, conn):
    raise RuntimeError("this handler always fails")


def test_an_event_is_one_trace_from_the_outbox_row_to_its_dead_letter(
    exported, kafka_bootstrap, contracts, topic, tmp_path, wait_until
):
    path = tmp_path / "service.db"
    conn = db.connect(path)
    db.migrate(conn, [outbox.OUTBOX_TABLES, db.PROCESSED_EVENTS_TABLE])
    example = json.loads(
        (contracts.directory / "events/examples/order.confirmed.valid.json").read_text()
    )
    event = new_event("order.confirmed", "/orders", example["subject"], example["data"])
    # Written inside a request's span, published later by the relay's thread.
    with (
        telemetry.within(SAMPLED),
        telemetry.tracer().start_as_current_span("request") as request,
        db.transaction(conn),
    ):
        outbox.enqueue(conn, topic, event)
    producer = Producer(kafka_bootstrap, "traced")
    relay = outbox.OutboxRelay(path, producer)
    loop = ConsumerLoop(
        topics=[topic],
        group_id=f"traced-{uuid.uuid4().hex[:8]}",
        handlers={"order.confirmed": fail},
        db_path=path,
        bootstrap=kafka_bootstrap,
        contracts=contracts,
        producer=producer,
        retry_delays=[],  # straight to the dead-letter topic
    )
    try:
        assert relay.publish_pending(conn) == 1
        loop.start()
        dlq = contracts.dead_letter_topic(topic)
        wait_until(lambda: any(s.name == f"send {dlq}" for s in in_trace(exported)), 30)
    finally:
        loop.stop()
        producer.close()
        conn.close()

    spans = in_trace(exported)
    by_id = {span.context.span_id: span for span in spans}

    def parent(span):
        return by_id.get(span.parent.span_id) if span.parent else None

    (sent,) = [s for s in spans if s.name == f"send {topic}"]
    assert sent.kind is SpanKind.PRODUCER
    assert parent(sent).context.span_id == request.get_span_context().span_id
    assert sent.attributes["messaging.destination.name"] == topic
    assert sent.attributes["messaging.kafka.offset"] >= 0

    (processed,) = [s for s in spans if s.name == f"process {topic}"]
    assert processed.kind is SpanKind.CONSUMER
    assert parent(processed) is sent  # a child, not only a link
    assert processed.attributes["messaging.consumer.group.name"].startswith("traced-")
    assert (
        processed.attributes["messaging.kafka.offset"] == sent.attributes["messaging.kafka.offset"]
    )
    assert processed.status.status_code is StatusCode.ERROR
    assert processed.status.description.startswith("handler failed: RuntimeError")

    (dead,) = [s for s in spans if s.name == f"send {dlq}"]
    assert parent(dead) is processed  # the dead letter's trace ends where it died
