from __future__ import annotations

import pytest

from gateway.balancer import LeastOutstanding, RoundRobin, instance_key, make_balancer

A = {"instance_id": "a", "host": "127.0.0.1", "port": 1}
B = {"instance_id": "b", "host": "127.0.0.1", "port": 2}
C = {"host": "127.0.0.1", "port": 3}


def test_round_robin_takes_each_instance_in_turn():
    balancer = RoundRobin()
    assert [balancer.choose("svc", [A, B, C]) for _ in range(6)] == [A, B, C, A, B, C]


def test_round_robin_keeps_one_turn_per_service():
    balancer = RoundRobin()
    balancer.choose("one", [A, B])
    assert balancer.choose("two", [A, B]) == A


def test_least_outstanding_avoids_the_busy_instance():
    balancer = LeastOutstanding()
    balancer.started(A)
    balancer.started(A)
    balancer.started(B)
    assert [balancer.choose("svc", [A, B, C]) for _ in range(3)] == [C, C, C]
    balancer.finished(A)
    balancer.finished(A)
    assert balancer.choose("svc", [A, B]) == A


def test_least_outstanding_spreads_an_idle_load():
    balancer = LeastOutstanding()
    assert {instance_key(balancer.choose("svc", [A, B])) for _ in range(2)} == {"a", "b"}


def test_names_an_instance_by_id_or_address():
    assert (instance_key(A), instance_key(C)) == ("a", "127.0.0.1:3")


def test_refuses_an_unknown_strategy():
    with pytest.raises(ValueError, match="round_robin"):
        make_balancer("random")
