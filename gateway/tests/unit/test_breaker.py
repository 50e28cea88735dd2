from __future__ import annotations

import pytest

from gateway.breaker import CLOSED, HALF_OPEN, OPEN, Breakers, CircuitBreaker


@pytest.fixture
def breaker(clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, cooldown_seconds=10, clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.acquire()
        breaker.record_failure()


def test_stays_closed_below_the_threshold(breaker):
    fail(breaker, 2)
    assert breaker.state == CLOSED


def test_a_success_resets_the_count_of_failures_in_a_row(breaker):
    fail(breaker, 2)
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state == CLOSED


def test_opens_after_the_threshold_and_refuses_during_the_cooldown(breaker, clock):
    fail(breaker, 3)
    assert breaker.state == OPEN
    clock.advance(9.9)
    assert not breaker.available()
    assert not breaker.acquire()


def test_lets_exactly_one_probe_through_when_half_open(breaker, clock):
    fail(breaker, 3)
    clock.advance(10)
    assert breaker.state == HALF_OPEN
    assert breaker.acquire()
    assert not breaker.available()
    assert not breaker.acquire()


def test_a_successful_probe_closes_the_breaker(breaker, clock):
    fail(breaker, 3)
    clock.advance(10)
    breaker.acquire()
    breaker.record_success()
    assert breaker.state == CLOSED


def test_a_failed_probe_opens_it_for_another_cooldown(breaker, clock):
    fail(breaker, 3)
    clock.advance(10)
    breaker.acquire()
    breaker.record_failure()
    assert breaker.state == OPEN
    clock.advance(9.9)
    assert breaker.state == OPEN


def test_a_refused_connection_opens_it_at_once(breaker):
    assert breaker.acquire()
    breaker.record_failure(eject=True)
    assert breaker.state == OPEN


def test_an_instance_registered_again_gets_a_fresh_breaker(clock):
    breakers = Breakers(failure_threshold=1, cooldown_seconds=10, clock=clock)
    breakers.of("orders-1", "2026-01-01T10:00:00Z").record_failure()
    assert breakers.of("orders-1", "2026-01-01T10:00:00Z").state == OPEN
    assert breakers.of("orders-1", "2026-01-01T10:00:07Z").state == CLOSED


def test_counts_each_opening_as_one_ejection(breaker, clock):
    fail(breaker, 3)
    breaker.record_failure()  # a late failure while open: the same ejection
    assert breaker.ejections == 1
    clock.advance(10)
    breaker.acquire()
    breaker.record_failure()  # the probe failed: ejected again
    assert breaker.ejections == 2
    clock.advance(10)
    breaker.acquire()
    breaker.record_success()
    assert (breaker.state, breaker.ejections) == (CLOSED, 2)


def test_peeking_at_a_breaker_makes_none(clock):
    breakers = Breakers(failure_threshold=1, cooldown_seconds=10, clock=clock)
    assert breakers.peek("orders-1", "t1") is None
    breakers.of("orders-1", "t1").record_failure()
    assert breakers.peek("orders-1", "t1").state == OPEN
    assert breakers.peek("orders-1", "t2") is None  # registered anew: not this breaker


def test_tells_each_state_it_moves_to_and_the_instance_it_belongs_to(clock):
    moves = []
    breakers = Breakers(
        failure_threshold=2,
        cooldown_seconds=10,
        clock=clock,
        on_change=lambda key, state: moves.append((key, state)),
    )
    breaker = breakers.of("orders-1", "t1")
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_failure()  # open already: no move
    clock.advance(10)
    assert breaker.acquire()
    breaker.record_failure()  # the probe failed
    clock.advance(10)
    assert breaker.acquire()
    breaker.record_success()
    breaker.record_success()  # closed already: no move
    assert [state for _, state in moves] == [
        CLOSED,
        OPEN,
        HALF_OPEN,
        OPEN,
        HALF_OPEN,
        CLOSED,
    ]
    assert {key for key, _ in moves} == {"orders-1"}
