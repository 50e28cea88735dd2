"""Traces, the OpenTelemetry way (docs/observability.md).

`start_tracing` sets up the SDK once per process, from the standard OTEL_*
variables only:

- OTEL_TRACES_EXPORTER: `zipkin` (Zipkin's v2 JSON API), `otlp` (OTLP over
  HTTP/protobuf, the one OTLP transport shipped: another
  OTEL_EXPORTER_OTLP_PROTOCOL stops the start), `console`, or `none`. Unset
  means `none`: tracing is off. A trace then starts unsampled (the sampler
  is ParentBased(AlwaysOff) unless OTEL_TRACES_SAMPLER says otherwise) and
  nothing is exported, but every request and record still has a trace id
  and a span id, so logs and the context passed on keep working, and a
  caller's sampled flag is passed on as it came.
- OTEL_SERVICE_NAME (the piece's own name by default),
  OTEL_EXPORTER_ZIPKIN_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT,
  OTEL_TRACES_SAMPLER and its _ARG, OTEL_BSP_*: read by the SDK itself.

OTEL_SDK_DISABLED=true sets up nothing at all: no provider, no
instrumentation, no trace ids. It is the baseline the cost of tracing is
measured against (docs/benchmarks/tracing.md), not a way to run the shop.

HTTP spans come from the Flask and urllib3 instrumentations (requests sends
through urllib3: instrumenting both would make two client spans a call); Kafka
spans (`send {topic}`, `process {topic}`) are made by kafka_io and the outbox
(confluent-kafka's instrumentation times the client's `poll`, not the
record's work, which is what the saga's traces need).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.utils import suppress_http_instrumentation
from opentelemetry.instrumentation.wsgi import wsgi_getter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

# OTEL_TRACES_EXPORTER's values → the exporters' entry points; the Node.js
# library takes the same values, and no others.
EXPORTERS = {"zipkin": "zipkin_json", "otlp": "otlp_proto_http", "console": "console"}
OFF = "none"
OTLP_PROTOCOL = "http/protobuf"
# Probes and scrapes every few seconds would bury the traces that matter.
UNTRACED_PATHS = "/healthz$,/readyz$,/livez$,/metrics$"

_lock = threading.Lock()
_provider: TracerProvider | None = None


def exporter_name() -> str:
    return os.environ.get("OTEL_TRACES_EXPORTER", "").strip() or OFF


def disabled() -> bool:
    """OTEL_SDK_DISABLED=true, the specification's switch for no SDK at all."""
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def start_tracing(service: str) -> TracerProvider | None:
    """The process's tracer provider, set up on the first call; None when
    the SDK is disabled."""
    global _provider
    if disabled():
        return None
    with _lock:
        if _provider is None:
            _provider = _build_provider(service)
            trace.set_tracer_provider(_provider)
            _instrument_clients()
        return _provider


def _build_provider(service: str) -> TracerProvider:
    name = exporter_name()
    if name != OFF and name not in EXPORTERS:
        known = ", ".join(sorted([*EXPORTERS, OFF]))
        raise ValueError(f"OTEL_TRACES_EXPORTER={name!r}: expected one of {known}")
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    if name == "otlp" and protocol and protocol != OTLP_PROTOCOL:
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: only {OTLP_PROTOCOL} works")
    # OTEL_SERVICE_NAME, when set, wins over the piece's own name.
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    off = name == OFF and not os.environ.get("OTEL_TRACES_SAMPLER")
    sampler = ParentBased(ALWAYS_OFF) if off else None
    provider = TracerProvider(resource=Resource.create(named), sampler=sampler)
    if name != OFF:
        (exporter,) = entry_points(group="opentelemetry_traces_exporter", name=EXPORTERS[name])
        provider.add_span_processor(BatchSpanProcessor(exporter.load()()))
    return provider


def _instrument_clients() -> None:
    # Imported here: instrumenting patches the libraries, once, in a process
    # that traces.
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor

    URLLib3Instrumentor().instrument()


def instrument_app(app: Any, service: str) -> None:
    """Server spans for every request of a Flask app, but the probes'."""
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    if start_tracing(service) is not None:
        FlaskInstrumentor().instrument_app(app, excluded_urls=UNTRACED_PATHS)


@contextmanager
def server_span(environ: dict[str, Any]) -> Iterator[trace.Span]:
    """The server span of a request a WSGI app answers without Flask (the
    gateway's proxy path): it continues the caller's trace, or starts one,
    and is named by `name_server_span` once the route is known."""
    method = environ.get("REQUEST_METHOD", "")
    parent = propagate.extract(environ, getter=wsgi_getter)
    with _TRACER.start_as_current_span(method, parent, trace.SpanKind.SERVER) as span:
        if span.is_recording():
            span.set_attributes(
                {
                    "http.request.method": method,
                    "url.path": environ.get("PATH_INFO", ""),
                    "url.scheme": environ.get("wsgi.url_scheme", "http"),
                    "client.address": environ.get("REMOTE_ADDR", ""),
                }
            )
        yield span


def answered(span: trace.Span, status: int) -> None:
    """Record the status a server span's request was answered with."""
    if span.is_recording():
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(trace.StatusCode.ERROR)


def name_server_span(method: str, route: str) -> None:
    """Name the request's server span after a route the app matched itself
    (the gateway's routes file), not after the Flask rule that caught it."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)


def stop_tracing() -> None:
    """Send the spans still buffered (a worker that exits)."""
    with _lock:
        if _provider is not None:
            _provider.shutdown()


@contextmanager
def untraced() -> Iterator[None]:
    """No spans for the HTTP calls inside: the registry client's heartbeats and
    watches, which would each start a trace of their own every few seconds."""
    with suppress_http_instrumentation():
        yield


# One tracer for the process, made once: asking the provider for one on
# every span cost 7% of a consumer's CPU. A proxy, so it is right to make
# it before `configure` sets the provider: it finds the provider then.
_TRACER = trace.ProxyTracer("polyshop_common")


def tracer() -> trace.Tracer:
    return _TRACER


def carrier() -> dict[str, str]:
    """The active context as W3C headers (`traceparent`, `tracestate`), to keep
    with what is written now and sent later (an outbox row)."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def context_of(headers: dict[str, str]) -> context.Context:
    """The context a carrier (an outbox row's headers) holds."""
    return propagate.extract(headers)


@contextmanager
def within(headers: dict[str, str]) -> Iterator[None]:
    """The context a carrier holds as the active one inside the block: the
    trace of an event being handled, say."""
    token = context.attach(context_of(headers))
    try:
        yield
    finally:
        context.detach(token)
