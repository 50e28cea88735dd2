"""One order, one trace (docs/observability.md), read back through a real
Zipkin server's own query API: the gateway's server span is the root; orders,
catalog, inventory, payments and notifications all join it, over HTTP and
over both asynchronous hops (outbox → Kafka → consumer), each consumer span a
child of the producer span whose record it processed."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from support import poll
from support.shop import Customer, running_shop

EVERY_PIECE = {"gateway", "orders", "catalog", "inventory", "payments", "notifications"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    with running_shop(tmp_path_factory.mktemp("traces"), traces=True) as started:
        yield started


@pytest.fixture(scope="module")
def alice(shop) -> Customer:
    return Customer(shop.gateway, "alice", "wonderland")


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
    placed = alice.place_order([{"sku": "TEA-SENCHA", "quantity": 1}])
    assert placed.status_code == 202
    order = alice.wait_until_finished(placed.json()["id"])
    assert order["status"] == "CONFIRMED"
    trace_id = trace_of(placed)

    def complete(found: Trace) -> bool:
        services = {found.service(span) for span in found.spans.values()}
        return services >= EVERY_PIECE and bool(
            found.find("notifications", "CONSUMER", **{"messaging.destination.name": "orders"})
        )

    found = whole(shop, trace_id, complete)

    # The gateway's server span is the root.
    roots = [span for span in found.spans.values() if found.parent(span) is None]
    assert [(found.service(r), r.get("kind")) for r in roots] == [("gateway", "SERVER")]

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
    placed = alice.place_order([{"sku": "ESPRESSO-MACHINE", "quantity": 1}])
    order = alice.wait_until_finished(placed.json()["id"])
    assert order["status"] == "CANCELLED"

    def released(found: Trace) -> list[dict]:
        # inventory hears payment.declined and publishes the release.
        heard = found.find("inventory", "CONSUMER", **{"messaging.destination.name": "payments"})
        return [
            send
            for send in found.find(
                "inventory", "PRODUCER", **{"messaging.destination.name": "inventory"}
            )
            if found.parent(send) in heard
        ]

    found = whole(shop, trace_of(placed), lambda found: bool(released(found)))
    assert found.find("payments", "PRODUCER", **{"messaging.destination.name": "payments"})
