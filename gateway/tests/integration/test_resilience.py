"""Failures of upstream instances: retry, ejection, time-outs, rate limits."""

from __future__ import annotations

import threading
import time
from collections import Counter

import requests

from gateway.breaker import CLOSED, OPEN


def breaker_state(gateway, upstream) -> str:
    return gateway.app.extensions["gateway.upstreams"].breakers[upstream.name].state


def test_retries_a_get_on_the_other_instance_when_one_refuses(gateway, start_upstream):
    alive, dead = start_upstream("fragile", "alive"), start_upstream("fragile", "dead")
    gateway.wait_for("fragile", 2)
    dead.kill()
    answers = [gateway.get("/api/fragile/thing") for _ in range(6)]
    assert [response.status_code for response in answers] == [200] * 6
    assert {response.json()["instance"] for response in answers} == {alive.name}


def test_retries_a_get_whose_answer_broke_off_before_its_body_came_whole(gateway, start_upstream):
    # As an instance killed between writing its answer's head and its body.
    whole, cut = start_upstream("fragile", "whole"), start_upstream("fragile", "cut")
    gateway.wait_for("fragile", 2)
    answers = [gateway.get(f"/api/fragile/cut?on={cut.name}") for _ in range(4)]
    assert [response.status_code for response in answers] == [200] * 4
    assert {response.json()["instance"] for response in answers} == {whole.name}


def test_ejects_an_instance_that_failed_in_a_row_then_probes_it(gateway, start_upstream):
    alive, dead = start_upstream("fragile", "alive"), start_upstream("fragile", "dead")
    gateway.wait_for("fragile", 2)
    dead.kill()
    for _ in range(8):
        assert gateway.get("/api/fragile").status_code == 200
    # The registry still lists the dead instance (its lease is renewed), but
    # the gateway no longer sends it anything.
    assert len(gateway.discovery.instances("fragile")) == 2
    assert breaker_state(gateway, dead) == OPEN
    assert breaker_state(gateway, alive) == CLOSED
    # After the cool-down one request probes it; it fails and is retried.
    time.sleep(1.0)  # the test gateway's cool-down: the one thing to wait for here
    assert gateway.get("/api/fragile").status_code == 200
    assert breaker_state(gateway, dead) == OPEN


def test_does_not_retry_a_post_without_an_idempotency_key(gateway, start_upstream):
    start_upstream("fragile", "alive")
    dead = start_upstream("fragile", "dead")
    gateway.wait_for("fragile", 2)
    dead.kill()
    url = gateway.url + "/api/fragile/orders"
    plain = Counter(requests.post(url, json={}, timeout=5).status_code for _ in range(2))
    assert plain == {200: 1, 502: 1}  # round robin sent one of the two to the dead one
    keyed = [
        requests.post(url, json={}, headers={"Idempotency-Key": f"k{i}"}, timeout=5).status_code
        for i in range(2)
    ]
    assert keyed == [200, 200]


def test_no_failed_get_while_one_of_two_instances_is_killed_under_load(gateway, start_upstream):
    start_upstream("fragile", "steady")
    victim = start_upstream("fragile", "victim")
    gateway.wait_for("fragile", 2)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + 2.0

    def client() -> None:
        with requests.Session() as session:
            while time.monotonic() < stop_at:
                status = session.get(gateway.url + "/api/fragile/x", timeout=5).status_code
                with lock:
                    statuses[status] += 1

    clients = [threading.Thread(target=client) for _ in range(8)]
    for thread in clients:
        thread.start()
    time.sleep(0.5)  # let load build up before the kill
    victim.kill()
    for thread in clients:
        thread.join(10)
    assert set(statuses) == {200}, statuses
    assert statuses[200] > 50


def test_answers_503_when_every_instance_is_ejected(gateway, start_upstream):
    dead = start_upstream("fragile", "dead")
    gateway.wait_for("fragile", 1)
    dead.kill()
    statuses = [gateway.get("/api/fragile").status_code for _ in range(4)]
    # The first refused connection ejects it: nothing listens there.
    assert statuses == [502, 503, 503, 503]


def test_limits_a_client_to_its_burst_then_answers_429(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    alice = gateway.auth("alice")
    allowed = [gateway.get("/api/limited", headers=alice) for _ in range(3)]
    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert [response.headers["RateLimit-Remaining"] for response in allowed] == ["2", "1", "0"]
    refused = gateway.get("/api/limited", headers=alice)
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    # Another user has a bucket of their own.
    assert gateway.get("/api/limited", headers=gateway.auth("bob")).status_code == 200
