"""Lab 08: the learner followed one confirmed order in Zipkin and wrote down
what its trace shows. The order and its trace id are checked against the
order's own records on the topic orders (each carries its trace in its
`traceparent` header), the rest against the trace Zipkin keeps."""

from __future__ import annotations

import json

import requests
import yaml

from polyshop_dev.labs import Grade, ShopAddress
from polyshop_dev.labs.shopping import records

TOPIC = "orders"
# An order's status, by the one final event the topic orders has of it, if any.
STATUSES = {"order.confirmed": "CONFIRMED", "order.cancelled": "CANCELLED"}
READING_SECONDS = 20


def grade(shop: ShopAddress, check: Grade) -> None:
    if not check.that(
        shop.zipkin,
        "the shop sends its spans to a trace server (Zipkin)",
        "stop the shop and start it with `make up TRACES=1` (step 1)",
    ):
        return
    path = shop.answers_file("08")
    if not check.that(path.exists(), f"your answers are in {path}", f"write {path} (step 5)"):
        return
    answers = yaml.safe_load(path.read_text()) or {}
    if not check.that(
        isinstance(answers, dict),
        f"{path} holds one answer per name",
        "copy the YAML of step 5 and fill it in",
    ):
        return
    order_id = text(answers.get("order_id"))
    events = order_events(shop, order_id) if order_id else {}
    if not check.that(
        "order.created" in events,
        f"order_id names an order of the shop ({order_id or 'no answer yet'})",
        "copy it from the order page's address, /orders/ORDER_ID (step 2)",
    ):
        return
    status = next((s for kind, s in STATUSES.items() if kind in events), "PENDING")
    check.that(
        status == "CONFIRMED",
        f"order {order_id} is CONFIRMED (its events say {status})",
        "follow a confirmed order: of a product in stock, under the payment limit (step 2)",
    )
    trace_id = trace_of(events["order.created"])
    given = text(answers.get("trace_id")).lower()
    check.that(
        given == trace_id,
        "trace_id is your order's trace (the one its order.created record carries)"
        + ("" if given else " (no answer yet)"),
        "open the order page's link to its trace: the id ends the address (step 3)",
    )
    spans = trace(shop, trace_id)
    if not check.that(
        spans,
        f"Zipkin keeps the trace of order {order_id}",
        "Zipkin keeps traces in memory only: after a restart, place a new order (steps 2 and 3)",
    ):
        return
    grade_services(answers.get("services"), spans, check)
    check.that(
        number(answers.get("orders_partition")) == events["order.created"].partition,
        "orders_partition is right" + none_yet(answers.get("orders_partition")),
        "click a `send orders` span: its tag messaging.destination.partition.id (step 4)",
    )
    consumers = [span for span in spans if span.get("kind") == "CONSUMER"]
    longest = max((span.get("duration", 0) for span in consumers), default=None)
    slowest = {service_of(span) for span in consumers if span.get("duration", 0) == longest}
    check.that(
        text(answers.get("slowest_consumer")).lower() in slowest,
        "slowest_consumer is right" + none_yet(answers.get("slowest_consumer")),
        f"compare the durations of the {len(consumers)} `process` spans (step 4)",
    )


def grade_services(given: object, spans: list[dict], check: Grade) -> None:
    if isinstance(given, str):
        given = given.replace(",", " ").split()
    named = {text(each).lower() for each in given or []}
    found = {service_of(span) for span in spans}
    wrong, missing = len(named - found), len(found - named)
    check.that(
        named == found,
        "services are the trace's services"
        + (f" ({wrong} named not in it, {missing} of it not named)" if wrong or missing else ""),
        "each row of the trace names its service: list every one once (step 4)",
    )


def order_events(shop: ShopAddress, order_id: str) -> dict:
    """The order's records on the topic orders, by event type (the first of each)."""
    found: dict = {}
    for record in records(shop.kafka, TOPIC, READING_SECONDS):
        if record.key != order_id.encode():
            continue
        try:
            kind = json.loads(record.value)["type"]
        except (ValueError, KeyError, TypeError):
            continue
        found.setdefault(kind, record)
    return found


def trace_of(record) -> str:
    """The trace id of a record's `traceparent` header: 00-TRACE-SPAN-FLAGS."""
    headers = {name: value.decode(errors="replace") for name, value in record.headers or []}
    parts = headers.get("traceparent", "").split("-")
    return parts[1] if len(parts) == 4 else ""


def trace(shop: ShopAddress, trace_id: str) -> list[dict]:
    if not trace_id:
        return []
    answer = requests.get(f"{shop.zipkin}/api/v2/trace/{trace_id}", timeout=5)
    return answer.json() if answer.status_code == 200 else []


def service_of(span: dict) -> str:
    return span.get("localEndpoint", {}).get("serviceName", "").lower()


def text(value: object) -> str:
    return "" if value is None else str(value).strip()


def number(value: object) -> int | None:
    try:
        return int(text(value))
    except ValueError:
        return None


def none_yet(value: object) -> str:
    return " (no answer yet)" if value is None or text(value) == "" else ""
