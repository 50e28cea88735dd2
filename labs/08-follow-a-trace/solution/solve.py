"""Lab 08's reference solution, run by the labs' end-to-end test."""

from __future__ import annotations

import time

import requests
import yaml

from polyshop_dev.labs.control import Control
from polyshop_dev.labs.shopping import confirmed_order

# The groups that read each topic (docs/saga.md): a trace is whole when
# every record sent in it has a `process` span of each of them.
READERS = {
    "orders": {"inventory", "payments", "notifications", "storefront"},
    "inventory": {"orders", "payments", "storefront"},
    "payments": {"orders", "inventory", "storefront"},
    "notifications": {"storefront"},
}
PARTITION = "messaging.destination.partition.id"


def solve(control: Control) -> None:
    shop = control.shop
    customer = control.customer()
    placed = confirmed_order(shop, customer)
    order_id = placed.json()["id"]
    # traceresponse: 00-TRACE_ID-SPAN_ID-FLAGS, the trace the gateway's answer belongs to
    trace_id = placed.headers["traceresponse"].split("-")[1]
    spans = settled(shop.zipkin, trace_id)
    sent = [span for span in spans if span.get("kind") == "PRODUCER"]
    consumers = [span for span in spans if span.get("kind") == "CONSUMER"]
    answers = {
        "order_id": order_id,
        "trace_id": trace_id,
        "services": sorted({service_of(span) for span in spans}),
        "orders_partition": int(next(s["tags"][PARTITION] for s in sent if topic(s) == "orders")),
        "slowest_consumer": service_of(max(consumers, key=lambda span: span["duration"])),
    }
    path = shop.answers_file("08")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(answers))


def settled(zipkin: str, trace_id: str, timeout: float = 90, quiet: float = 10) -> list[dict]:
    """The trace's spans once whole, or once no span has come for `quiet`
    seconds (the answers are then checked against what Zipkin holds)."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        spans = trace(zipkin, trace_id)
        if whole(spans):
            return spans
        if len(spans) != seen:
            seen, since = len(spans), time.monotonic()
        elif spans and time.monotonic() - since >= quiet:
            return spans
        time.sleep(0.5)
    raise AssertionError(f"Zipkin has no trace {trace_id} after {timeout} s")


def trace(zipkin: str, trace_id: str) -> list[dict]:
    answer = requests.get(f"{zipkin}/api/v2/trace/{trace_id}", timeout=5)
    return answer.json() if answer.status_code == 200 else []


def whole(spans: list[dict]) -> list[dict] | None:
    """The spans, once the saga's last record (notification.sent) was sent
    and every record sent has been processed by every group that reads it."""
    told = any(span.get("kind") == "PRODUCER" and topic(span) == "notifications" for span in spans)
    return spans if told and not missing(spans) else None


def missing(spans: list[dict]) -> list[str]:
    """What a trace still lacks: each record sent, with the groups that have not processed it."""
    read: dict[tuple, set[str]] = {}
    for span in spans:
        if span.get("kind") == "CONSUMER":
            group = span["tags"].get("messaging.consumer.group.name")
            read.setdefault(record_of(span), set()).add(group)
    return [
        f"{record_of(span)} not processed by {sorted(lacking)}"
        for span in spans
        if span.get("kind") == "PRODUCER"
        and (lacking := READERS.get(topic(span), set()) - read.get(record_of(span), set()))
    ]


def record_of(span: dict) -> tuple:
    """Where the record of a `send` or `process` span lies: topic, partition, offset."""
    tags = span.get("tags", {})
    return (topic(span), tags.get(PARTITION), tags.get("messaging.kafka.offset"))


def topic(span: dict) -> str | None:
    return span.get("tags", {}).get("messaging.destination.name")


def service_of(span: dict) -> str:
    return span["localEndpoint"]["serviceName"]
