"""Metrics (docs/observability.md): every piece's `GET /metrics`, scraped
before and after a few orders of the folder's shop, moves as the orders
did; lag and outbox backlog fall back to 0; a poison record is counted as
a dead letter; and the gateway routes no `/metrics` to the public."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from polyshop_common.telemetry import untraced
from polyshop_dev import promtool
from support import poll
from support.kafka_probe import send_raw

ROOT = Path(__file__).resolve().parents[2]
SHARED = json.loads((ROOT / "contracts" / "metrics.json").read_text())["metrics"]
CONSUMERS = {"orders", "inventory", "payments", "notifications", "storefront"}
WITH_OUTBOX = {"orders", "inventory", "payments", "notifications"}
ORDERS = 3
# A line of a series polyshop names, or of its HELP and TYPE.
OURS = re.compile(r"^(# (HELP|TYPE) )?(http_server|messaging|polyshop)_")

Samples = dict[tuple[str, frozenset], float]


def metrics_urls(shop) -> dict[str, str]:
    urls = {name: f"http://127.0.0.1:{port}/metrics" for name, port in shop.ports.services}
    urls["registry"] = f"http://127.0.0.1:{shop.ports.registry}/metrics"
    urls["gateway"] = f"http://127.0.0.1:{shop.ports.gateway_metrics}/metrics"
    return urls


def scrape(url: str) -> Samples:
    answer = requests.get(url, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(
        value for (found, have), value in samples.items() if found == name and wanted <= have
    )


def series(samples: Samples, name: str) -> list[tuple[dict, float]]:
    return [(dict(labels), value) for (found, labels), value in samples.items() if found == name]


def scrape_all(shop) -> dict[str, Samples]:
    return {name: scrape(url) for name, url in metrics_urls(shop).items()}


@pytest.fixture(scope="module")
def moved(shop, alice):
    """Every piece scraped before and after a few confirmed orders."""
    before = scrape_all(shop)
    for _ in range(ORDERS):
        with untraced():
            placed = alice.place_order([{"sku": "TEA-SENCHA", "quantity": 1}])
        assert placed.status_code == 202, placed.text
        assert alice.wait_until_finished(placed.json()["id"])["status"] == "CONFIRMED"

    def settled() -> dict[str, Samples] | None:
        after = scrape_all(shop)
        lags = [
            value
            for name in CONSUMERS
            for _, value in series(after[name], "polyshop_consumer_lag_records")
        ]
        backlog = sum(total(after[n], "polyshop_outbox_backlog_rows") for n in WITH_OUTBOX)
        return after if lags and not any(lags) and backlog == 0 else None

    after = poll(settled, timeout=30, what="every lag and outbox backlog back to 0")
    return before, after


def test_every_piece_counts_its_requests_by_route(moved):
    before, after = moved

    def grew(piece: str, route: str, method: str, at_least: int) -> None:
        labels = {"http_route": route, "http_request_method": method}
        name = "http_server_request_duration_seconds_count"
        change = total(after[piece], name, **labels) - total(before[piece], name, **labels)
        assert change >= at_least, (piece, route, change)

    grew("gateway", "/api/orders", "POST", ORDERS)
    grew("orders", "/orders", "POST", ORDERS)
    # orders asks catalog for each order's prices; notifications asks orders for its order.
    grew("catalog", "/products", "GET", ORDERS)
    grew("orders", "/orders/<order_id>", "GET", ORDERS)
    grew("registry", "/v1/services/<name>/instances/<instance_id>/heartbeat", "PUT", 1)
    for piece, samples in after.items():
        assert total(samples, "http_server_request_duration_seconds_count") > 0, piece


def test_every_consumer_times_what_it_handled_and_its_lag_falls_to_zero(moved):
    before, after = moved
    name = "messaging_process_duration_seconds_count"
    for piece in CONSUMERS:
        handled = total(after[piece], name, outcome="handled")
        assert handled - total(before[piece], name, outcome="handled") >= ORDERS, piece
        groups = {
            labels["messaging_consumer_group_name"] for labels, _ in series(after[piece], name)
        }
        assert groups == {piece}, groups
        lags = series(after[piece], "polyshop_consumer_lag_records")
        assert lags and all(value == 0 for _, value in lags), (piece, lags)


def test_the_outbox_backlog_and_its_oldest_row_fall_back_to_zero(moved):
    _, after = moved
    for piece in WITH_OUTBOX:
        assert total(after[piece], "polyshop_outbox_backlog_rows") == 0, piece
        assert total(after[piece], "polyshop_outbox_oldest_age_seconds") == 0, piece
    assert not series(after["catalog"], "polyshop_outbox_backlog_rows")  # it has no outbox


def test_the_gateway_measures_its_upstreams_and_the_registry_its_instances(moved):
    before, after = moved
    name = "polyshop_gateway_upstream_duration_seconds_count"
    change = total(after["gateway"], name, upstream_service="orders") - total(
        before["gateway"], name, upstream_service="orders"
    )
    assert change >= ORDERS
    states = series(after["gateway"], "polyshop_gateway_breaker_state")
    closed = [labels for labels, value in states if labels["state"] == "closed" and value >= 1]
    assert any(labels["upstream_instance"].startswith("orders-") for labels in closed), states
    instances = {
        labels["service"]: value
        for labels, value in series(after["registry"], "polyshop_registry_instances")
    }
    assert all(instances.get(piece, 0) >= 1 for piece in CONSUMERS | {"catalog"}), instances
    assert total(after["registry"], "polyshop_registry_heartbeats_total") > total(
        before["registry"], "polyshop_registry_heartbeats_total"
    )


def test_every_shared_series_is_served_with_the_contracts_labels(moved):
    _, after = moved
    for piece in CONSUMERS:
        for metric, spec in SHARED.items():
            if metric.startswith("polyshop_outbox") and piece not in WITH_OUTBOX:
                continue
            if metric == "polyshop_dead_letters_total":
                continue  # none yet, unless a poison record came first
            sample = f"{metric}_count" if spec["type"] == "histogram" else metric
            found = series(after[piece], sample)
            assert found, (piece, sample)
            assert all(set(labels) == set(spec["labels"]) for labels, _ in found), found


def test_the_series_polyshop_names_pass_prometheus_own_lint(shop, moved):
    """promtool's naming rules, for the series polyshop names; prom-client's
    own process series are left out (three of its gauges end in _total)."""
    for piece, url in metrics_urls(shop).items():
        text = requests.get(url, timeout=5).text
        ours = "\n".join(line for line in text.splitlines() if OURS.match(line)) + "\n"
        assert "polyshop_" in ours or piece == "catalog", piece
        result = promtool.run("check", "metrics", stdin=ours)
        assert result.returncode == 0, f"{piece}: {result.stdout}{result.stderr}"


def test_a_poison_record_is_counted_as_a_dead_letter(shop):
    url = metrics_urls(shop)["payments"]
    name = "polyshop_dead_letters_total"
    labels = {"messaging_destination_name": "orders", "messaging_consumer_group_name": "payments"}
    before = total(scrape(url), name, **labels)
    send_raw(shop.bootstrap, "orders", str(uuid.uuid4()).encode(), b"{not json")
    poll(
        lambda: total(scrape(url), name, **labels) >= before + 1,
        timeout=20,
        what="payments to count the dead letter",
    )


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/metrics?format=text"])
def test_the_gateway_routes_no_metrics_to_the_public(shop, path):
    answer = requests.get(shop.gateway + path, timeout=5)
    assert answer.status_code in (400, 404), answer.status_code
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "http_server_request_duration_seconds" not in answer.text
