"""The proxy hop: routing, balancing, headers, errors, bodies, streams."""

from __future__ import annotations

import json
import logging
import threading

import requests

from gateway.app import close_app, create_app
from polyshop_common.telemetry import untraced

PROBLEM = "application/problem+json"


def test_strips_api_and_keeps_the_rest_of_the_path_and_the_query(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    response = gateway.get("/api/echo/items/caf%C3%A9%20au%20lait?color=red&size=m")
    assert response.status_code == 200
    assert response.json()["path"] == "/echo/items/caf%C3%A9%20au%20lait?color=red&size=m"


def test_spreads_requests_over_the_live_instances(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    seen = [gateway.get("/api/echo").json()["instance"] for _ in range(6)]
    assert sorted(set(seen)) == ["echo-a", "echo-b"]
    assert seen.count("echo-a") == seen.count("echo-b") == 3


def test_passes_upstream_error_bodies_through_unchanged(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    response = gateway.get("/api/echo/status/409")
    assert response.status_code == 409
    assert response.text == "upstream says 409"
    assert response.headers["Content-Type"] == "text/plain"


def test_forwards_methods_and_bodies(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    response = requests.put(gateway.url + "/api/echo/things/1", data=b"hello", timeout=5)
    assert response.json()["method"] == "PUT"
    assert response.json()["body"] == "hello"


def test_answers_404_problem_for_an_unknown_route(gateway):
    response = gateway.get("/api/unknown/thing")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json()["title"] == "Unknown service"


def test_answers_503_problem_when_no_instance_is_live(gateway):
    response = gateway.get("/api/ghost")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == PROBLEM


def test_a_request_before_the_first_registry_answer_waits_for_it(
    unstarted_discovery, gateway_config, echo_pair
):
    # As in a gunicorn worker that has just started while /readyz was
    # answered by another one: its discovery has not heard back yet.
    discovery = unstarted_discovery
    app = create_app(gateway_config, discovery)
    late_start = threading.Timer(0.5, discovery.start)
    late_start.start()
    try:
        response = app.test_client().get("/api/echo")
    finally:
        late_start.join()
        close_app(app)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["instance"] in {"echo-a", "echo-b"}


def test_keeps_the_clients_request_id_and_passes_it_on(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    response = gateway.get("/api/echo", headers={"X-Request-ID": "checkout-42"})
    assert response.headers["X-Request-ID"] == "checkout-42"
    assert response.json()["headers"]["x-request-id"] == "checkout-42"


def test_makes_a_request_id_for_every_response_errors_included(gateway):
    for path in ("/healthz", "/api/unknown", "/api/ghost", "/nowhere"):
        assert len(gateway.get(path).headers["X-Request-ID"]) == 32


def test_passes_traceparent_on_in_the_same_trace(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    # The gateway runs in this process, which traces too: the test's own call
    # must go out with the traceparent it was given, not one of its own.
    with untraced():
        answer = gateway.get("/api/echo", headers={"traceparent": incoming})
    sent = answer.json()["headers"]
    trace_version, trace_id, parent_id, flags = sent["traceparent"].split("-")
    assert (trace_version, trace_id, flags) == ("00", "0af7651916cd43dd8448eb211c80319c", "01")
    assert parent_id != "b7ad6b7169203331"
    # The answer names the trace, and the gateway's own span in it: the
    # parent of the call upstream.
    _, answered_trace, gateway_span, _ = answer.headers["traceresponse"].split("-")
    assert answered_trace == trace_id
    assert gateway_span not in ("b7ad6b7169203331", parent_id)


def test_starts_a_trace_when_the_client_sent_none(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    sent = gateway.get("/api/echo").json()["headers"]
    assert len(sent["traceparent"].split("-")[1]) == 32


def test_refuses_bodies_over_one_mebibyte_with_413(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    fits = requests.post(gateway.url + "/api/echo", data=b"x" * 1024 * 1024, timeout=10)
    assert fits.status_code == 200
    response = requests.post(gateway.url + "/api/echo", data=b"x" * (1024 * 1024 + 1), timeout=10)
    assert response.status_code == 413
    assert response.headers["Content-Type"] == PROBLEM


def chunks_of(size: int, chunk: int = 64 * 1024):
    """A body `requests` sends chunked, without Content-Length."""
    for start in range(0, size, chunk):
        yield b"x" * min(chunk, size - start)


def test_refuses_chunked_bodies_over_one_mebibyte_instead_of_cutting_them_off(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    fits = requests.post(gateway.url + "/api/echo", data=chunks_of(1024 * 1024), timeout=10)
    assert fits.status_code == 200
    assert len(fits.json()["body"]) == 1024 * 1024
    response = requests.post(gateway.url + "/api/echo", data=chunks_of(1024 * 1024 + 1), timeout=10)
    assert response.status_code == 413
    assert response.headers["Content-Type"] == PROBLEM


def test_streams_server_sent_events_as_they_come(gateway, start_upstream):
    upstream = start_upstream("streamer", "streamer")
    gateway.wait_for("streamer", 1)
    with gateway.get("/api/stream/events", stream=True) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        lines = response.iter_lines()
        # The upstream holds the second event back until told: a gateway that
        # buffered the body would never show the first one here.
        assert next(lines) == b"data: first"
        upstream.get("/stream/events/release")
        assert [line for line in lines if line] == [b"data: second"]


def test_answers_504_when_the_upstream_is_too_slow(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    response = gateway.get("/api/hasty/slow?seconds=2")
    assert response.status_code == 504
    assert response.headers["Content-Type"] == PROBLEM


def test_never_shares_an_upstream_cookie_with_another_client(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    assert "instance=" in gateway.get("/api/echo").headers["Set-Cookie"]
    assert "cookie" not in gateway.get("/api/echo").json()["headers"]


def test_writes_one_json_access_log_line_per_request(gateway, echo_pair, caplog):
    gateway.wait_for("echo", 2)
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        gateway.get("/api/echo", headers={"X-Request-ID": "log-me"})
    lines = [r for r in caplog.records if r.name == "gateway.access" and r.request_id == "log-me"]
    assert len(lines) == 1
    assert (lines[0].status, lines[0].route_service, lines[0].method) == (200, "echo", "GET")
    assert lines[0].upstream in ("echo-a", "echo-b")
    json.dumps(vars(lines[0]), default=str)  # every field is JSON-serialisable


def test_health_and_readiness(gateway):
    assert gateway.get("/healthz").json() == {"status": "ok"}
    assert gateway.get("/readyz").json() == {"status": "ready"}
