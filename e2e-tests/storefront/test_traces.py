"""One order, one trace (docs/observability.md), read back through the
folder's shop's real Zipkin server, by Zipkin's own query API: the
gateway's server span is the root; orders, catalog, inventory, payments and
notifications all join it, over HTTP and over both asynchronous hops
(outbox → Kafka → consumer), each consumer span a child of the producer span
whose record it processed; a record no consumer can read keeps its trace to
its dead letters and log lines; and a real browser shows the trace in
Zipkin's UI."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter

import requests
from playwright.sync_api import expect

from polyshop_common.telemetry import untraced
from support import poll
from support.kafka_probe import records, send_raw
from support.shop import Customer
from support.storefront import add_to_cart, log_in, place_order, snap

EVERY_PIECE = {"gateway", "orders", "catalog", "inventory", "payments", "notifications"}


class Trace:
    """One trace as Zipkin keeps it: spans by id, with the helpers the
    assertions read like."""

    def __init__(self, spans: list[dict]) -> None:
        self.spans = {span["id"]: span for span in spans}

    def service(self, span: dict) -> str:
        return span["localEndpoint"]["serviceName"]

    def parent(self, span: dict) -> dict | None:
        return self.spans.get(span.get("parentId", ""))

    def find(self, service: str, kind: str, **tags: str) -> list[dict]:
        return [
            span
            for span in self.spans.values()
            if self.service(span) == service
            and span.get("kind") == kind
            and all(span.get("tags", {}).get(k) == v for k, v in tags.items())
        ]

    def services(self) -> set[str]:
        return {self.service(span) for span in self.spans.values()}

    def ancestors(self, span: dict) -> list[dict]:
        found = []
        while (span := self.parent(span)) is not None:
            found.append(span)
        return found

    def describe(self) -> str:
        counts = Counter(
            f"{self.service(s)} {s.get('kind', 'INTERNAL')} {s['name']}"
            for s in self.spans.values()
        )
        return "; ".join(f"{n} x {what}" for what, n in sorted(counts.items()))


def place(customer: Customer, sku: str) -> requests.Response:
    """One of the sku, ordered as curl would: with no trace context. This
    process may trace too (other tests run apps in it), and its requests
    instrumentation would pass on an unsampled context of its own, which the
    shop would then honour by recording nothing."""
    with untraced():
        return customer.place_order([{"sku": sku, "quantity": 1}])


def trace_of(answer: requests.Response) -> str:
    """The trace id the gateway names in its `traceresponse` header."""
    return answer.headers["traceresponse"].split("-")[1]


def read_trace(shop, trace_id: str) -> Trace | None:
    answer = requests.get(f"{shop.zipkin}/api/v2/trace/{trace_id}", timeout=5)
    return Trace(answer.json()) if answer.status_code == 200 else None


def whole(shop, trace_id: str, done) -> Trace:
    """The trace once `done(trace)` holds: spans arrive from every piece in
    batches, over a second or so."""
    seen: list[Trace] = []

    def check() -> Trace | None:
        found = read_trace(shop, trace_id)
        seen[:] = [found] if found else []
        return found if found and done(found) else None

    try:
        return poll(check, 30, interval=0.5, what=f"trace {trace_id} complete in Zipkin")
    except AssertionError as failure:
        spans = seen[0].describe() if seen else "no spans"
        raise AssertionError(f"{failure}; it has: {spans}") from failure


def test_a_confirmed_order_is_one_trace_across_every_piece_and_both_kafka_hops(shop, alice):
    placed = place(alice, "TEA-SENCHA")
    assert placed.status_code == 202
    order = alice.wait_until_finished(placed.json()["id"])
    assert order["status"] == "CONFIRMED"
    trace_id = trace_of(placed)

    def complete(found: Trace) -> bool:
        return found.services() >= EVERY_PIECE and bool(
            found.find("notifications", "CONSUMER", **{"messaging.destination.name": "orders"})
        )

    found = whole(shop, trace_id, complete)

    # The gateway's server span is the root.
    roots = [span for span in found.spans.values() if found.parent(span) is None]
    assert [(found.service(r), r.get("kind")) for r in roots] == [("gateway", "SERVER")]
    assert roots[0]["name"] == "post /api/orders"  # its route (Zipkin lower-cases names)

    # orders' server span is the gateway's child; its call to catalog, its child.
    (orders_server,) = [
        s for s in found.find("orders", "SERVER") if "post" in s["name"] and "orders" in s["name"]
    ]
    assert "gateway" in {found.service(a) for a in found.ancestors(orders_server)}
    (catalog_server,) = found.find("catalog", "SERVER")
    assert orders_server in found.ancestors(catalog_server)

    # The relay's publish continues the request that wrote the outbox row.
    created = found.find("orders", "PRODUCER", **{"messaging.destination.name": "orders"})
    assert any(orders_server in found.ancestors(send) for send in created), found.describe()

    # Every consume is a child of the publish of the record it read.
    consumers = [s for s in found.spans.values() if s.get("kind") == "CONSUMER"]
    for span in consumers:
        parent = found.parent(span)
        assert parent is not None and parent.get("kind") == "PRODUCER", span
        topic = span["tags"]["messaging.destination.name"]
        assert parent["tags"]["messaging.destination.name"] == topic
        assert span["tags"]["messaging.system"] == "kafka"
        assert span["tags"]["messaging.consumer.group.name"] == found.service(span)
        assert int(span["tags"]["messaging.kafka.offset"]) >= 0
    assert {found.service(s) for s in consumers} >= {
        "inventory",
        "payments",
        "orders",
        "notifications",
    }

    # notifications' call to orders is in the trace too.
    notified = found.find("notifications", "CLIENT")
    assert any(found.parent(s) in notified for s in found.find("orders", "SERVER")), (
        found.describe()
    )


def test_a_declined_order_shows_its_compensation_in_its_trace(shop, alice):
    placed = place(alice, "ESPRESSO-MACHINE")
    order = alice.wait_until_finished(placed.json()["id"])
    assert order["status"] == "CANCELLED"

    def released(found: Trace) -> list[dict]:
        # inventory releases on whichever it hears first: payment.declined
        # itself, or the order.cancelled that orders publishes on hearing it
        # (docs/saga.md). Either way the release descends from the decline.
        declined = found.find("payments", "PRODUCER", **{"messaging.destination.name": "payments"})
        heard = found.find("inventory", "CONSUMER")
        return [
            send
            for send in found.find(
                "inventory", "PRODUCER", **{"messaging.destination.name": "inventory"}
            )
            if found.parent(send) in heard
            and any(span in declined for span in found.ancestors(send))
        ]

    found = whole(shop, trace_of(placed), lambda found: bool(released(found)))
    assert len(released(found)) == 1, found.describe()  # once, not on both messages


def test_a_poison_records_trace_is_on_its_dead_letters_and_in_the_log_lines_about_it(shop):
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    headers = [("traceparent", traceparent.encode())]
    partition, offset = send_raw(shop.bootstrap, "payments", b"poison", b"{not json", headers)

    def dead_letters() -> dict[str, dict[str, str]]:
        found = records(
            shop.bootstrap,
            "payments.dlq",
            lambda r: (
                (("dlq-offset", str(offset).encode()) in r.headers)
                and (("dlq-partition", str(partition).encode()) in r.headers)
            ),
        )
        letters = [{k: v.decode() for k, v in r.headers} for r in found]
        return {letter["dlq-group"]: letter for letter in letters}

    # orders (Python) and inventory (Node.js) both read the payments topic.
    letters = poll(
        lambda: (found := dead_letters()).keys() >= {"orders", "inventory"} and found,
        30,
        interval=0.5,
        what="orders and inventory dead-letter the poison",
    )
    for group in ("orders", "inventory"):
        assert letters[group]["traceparent"].split("-")[1] == trace_id, letters[group]
        lines = [
            json.loads(line)
            for line in (shop.folder / "logs" / f"{group}.log").read_text().splitlines()
            if line.startswith("{") and trace_id in line
        ]
        assert any("dead-lettered" in line.get("message", "") for line in lines), lines
        assert {line["trace_id"] for line in lines} == {trace_id}

    # And the trace shows where it died: each group's process span, an error.
    def failed_processing(found: Trace) -> set[str]:
        return {
            found.service(span)
            for span in found.spans.values()
            if span.get("kind") == "CONSUMER"
            and span.get("tags", {}).get("otel.status_code") == "ERROR"
        }

    whole(shop, trace_id, lambda found: failed_processing(found) >= {"orders", "inventory"})


def test_the_order_page_links_to_the_trace_and_the_trace_ui_draws_every_piece(shop, page):
    log_in(page, "alice", "wonderland")
    add_to_cart(page, "TEA-SENCHA")
    place_order(page)
    expect(page.locator("#status")).to_have_text("CONFIRMED", timeout=30_000)
    link = page.get_by_role("link", name="See this order's trace")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    prefix = f"{shop.zipkin}/zipkin/traces/"
    assert href.startswith(prefix), href
    trace_id = href.removeprefix(prefix)
    assert len(trace_id) == 32, href
    # Placed in the browser: the trace starts at the gateway with the checkout.
    whole(shop, trace_id, lambda found: found.services() >= EVERY_PIECE | {"storefront"})

    # Zipkin draws only the rows of its span list that fit the window, and an
    # order's trace has about thirty: a window tall enough for all of them.
    shown = page.viewport_size
    page.set_viewport_size({"width": shown["width"], "height": 2400})
    page.goto(href)  # what the link opens, in a tab of its own
    for service in sorted(EVERY_PIECE | {"storefront"}):
        # Zipkin's page has a row per span: "orders: post /orders".
        expect(page.get_by_text(re.compile(f"^{service}: ")).first).to_be_visible()
    page.set_viewport_size(shown)
    snap(page, "trace")
