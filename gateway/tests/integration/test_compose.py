"""GET /api/orders/{id}/details: three services, one answer."""

from __future__ import annotations

import pytest


@pytest.fixture
def parts(gateway, start_upstream):
    started = {
        service: start_upstream(service, service)
        for service in ("orders", "payments", "notifications")
    }
    for service in started:
        gateway.wait_for(service, 1)
    return started


def test_composes_order_payments_and_notifications(gateway, parts):
    response = gateway.get("/api/orders/o-1/details", headers=gateway.auth())
    assert response.status_code == 200
    body = response.json()
    assert body["order"]["id"] == "o-1"
    assert body["payments"][0]["order_id"] == "o-1"
    assert body["notifications"][0]["order_id"] == "o-1"
    assert body["errors"] == []


def test_returns_the_other_parts_when_one_is_down(gateway, parts):
    parts["payments"].kill()
    response = gateway.get("/api/orders/o-1/details", headers=gateway.auth())
    assert response.status_code == 200
    body = response.json()
    assert body["order"]["id"] == "o-1"
    assert body["notifications"][0]["order_id"] == "o-1"
    assert body["payments"] is None
    assert body["errors"] == [{"part": "payments", "status": 502, "title": "Bad gateway"}]


def test_answers_404_when_orders_does_not_know_the_order(gateway, parts):
    response = gateway.get("/api/orders/missing/details", headers=gateway.auth())
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_needs_a_token_like_any_orders_request(gateway, parts):
    assert gateway.get("/api/orders/o-1/details").status_code == 401


def test_passes_the_user_to_every_part(gateway, parts):
    body = gateway.get("/api/orders/o-1/details", headers=gateway.auth("bob")).json()
    assert body["order"]["user"] == "bob"
    assert body["payments"][0]["user"] == body["notifications"][0]["user"] == "bob"
