"""GET /gateway/status: traffic per route and the instances behind them."""

from __future__ import annotations

import os
import threading
from datetime import datetime

import pytest
import yaml
from jsonschema import Draft202012Validator


@pytest.fixture(scope="session")
def status_schema(contracts_dir) -> Draft202012Validator:
    """The answer's schema, as contracts/openapi/gateway.yaml documents it."""
    document = yaml.safe_load((contracts_dir / "openapi" / "gateway.yaml").read_text())
    schema = {"$ref": "#/components/schemas/GatewayStatus", "components": document["components"]}
    return Draft202012Validator(schema)


def status(gateway, schema: Draft202012Validator | None = None) -> dict:
    response = gateway.get("/gateway/status")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    if schema is not None:
        schema.validate(body)
    return body


def route_row(body: dict, prefix: str) -> dict:
    return next(row for row in body["routes"] if row["prefix"] == prefix)


def instance_row(body: dict, instance_id: str) -> dict:
    return next(row for row in body["instances"] if row["instance_id"] == instance_id)


def test_counts_requests_and_server_errors_per_route(gateway, echo_pair, status_schema):
    gateway.wait_for("echo", 2)
    for path in ["/api/echo"] * 3 + ["/api/echo/status/404"] + ["/api/echo/status/503"] * 2:
        gateway.get(path)
    gateway.get("/api/ghost")  # 503 from the gateway itself: no live instance
    for path in ("/api/unknown", "/healthz", "/gateway/status"):  # no route: not counted
        gateway.get(path)
    body = status(gateway, status_schema)
    assert route_row(body, "/api/echo") == {
        "prefix": "/api/echo",
        "service": "echo",
        "requests": 6,
        "errors": 2,
        "requests_per_second": 0.6,  # all of them within the 10 s window
        "errors_per_second": 0.2,
    }
    ghost = route_row(body, "/api/ghost")
    assert (ghost["requests"], ghost["errors"], ghost["errors_per_second"]) == (1, 1, 0.1)
    assert route_row(body, "/api/orders")["requests"] == 0
    assert sum(row["requests"] for row in body["routes"]) == 7


def test_names_the_worker_and_the_time_of_the_answer(gateway, status_schema):
    body = status(gateway, status_schema)
    assert body["worker"] == str(os.getpid())  # the test server runs in this process
    assert body["window_seconds"] == 10
    assert body["generated_at"].endswith("Z")
    assert datetime.fromisoformat(body["generated_at"].replace("Z", "+00:00")).tzinfo


def test_lists_every_live_instance_with_its_address(gateway, echo_pair, status_schema):
    gateway.wait_for("echo", 2)
    body = status(gateway, status_schema)
    for upstream in echo_pair:
        assert instance_row(body, upstream.name) == {
            "service": "echo",
            "instance_id": upstream.name,
            "host": "127.0.0.1",
            "port": upstream.port,
            "breaker": "closed",
            "ejections": 0,
            "outstanding": 0,
        }


def test_shows_the_breaker_of_a_killed_instance_open(gateway, start_upstream, status_schema):
    alive, dead = start_upstream("fragile", "alive"), start_upstream("fragile", "dead")
    gateway.wait_for("fragile", 2)
    dead.kill()
    for _ in range(4):
        assert gateway.get("/api/fragile").status_code == 200  # retried on the other one
    body = status(gateway, status_schema)
    ejected, kept = instance_row(body, dead.name), instance_row(body, alive.name)
    assert (ejected["breaker"], ejected["ejections"]) == ("open", 1)
    assert (kept["breaker"], kept["ejections"]) == ("closed", 0)
    assert route_row(body, "/api/fragile")["errors"] == 0  # the client never saw the failure


def test_shows_a_request_in_flight_as_outstanding(gateway, echo_pair, wait_until):
    gateway.wait_for("echo", 2)
    slow = threading.Thread(target=gateway.get, args=("/api/echo/slow?seconds=1",))
    slow.start()
    try:
        wait_until(lambda: sum(row["outstanding"] for row in status(gateway)["instances"]) == 1)
    finally:
        slow.join(10)
    assert sum(row["outstanding"] for row in status(gateway)["instances"]) == 0


def test_tells_nothing_about_clients(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    headers = {**gateway.auth("alice"), "X-Forwarded-For": "203.0.113.7"}
    assert gateway.get("/api/private", headers=headers).status_code == 200
    text = gateway.get("/gateway/status").text
    for secret in ("alice", headers["Authorization"].split()[1], "203.0.113.7"):
        assert secret not in text


def test_needs_no_token_and_is_not_rate_limited(gateway):
    statuses = {gateway.get("/gateway/status").status_code for _ in range(20)}
    assert statuses == {200}
