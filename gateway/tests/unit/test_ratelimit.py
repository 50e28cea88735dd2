from __future__ import annotations

from gateway.ratelimit import RateLimiter
from gateway.routes import RateLimit

LIMIT = RateLimit(rate=2, burst=3)


def test_allows_a_burst_then_refuses_with_retry_after(clock):
    limiter = RateLimiter(clock)
    decisions = [limiter.take("/api/x", "alice", LIMIT) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1].headers()
    assert refused["Retry-After"] == "1"
    assert refused["RateLimit-Limit"] == "3"
    assert refused["RateLimit-Reset"] == "2"


def test_refills_at_the_rate(clock):
    limiter = RateLimiter(clock)
    for _ in range(3):
        limiter.take("/api/x", "alice", LIMIT)
    clock.advance(0.5)  # one token back at 2 per second
    assert limiter.take("/api/x", "alice", LIMIT).allowed
    assert not limiter.take("/api/x", "alice", LIMIT).allowed


def test_keeps_a_bucket_per_client_and_route(clock):
    limiter = RateLimiter(clock)
    for _ in range(3):
        limiter.take("/api/x", "alice", LIMIT)
    assert limiter.take("/api/x", "bob", LIMIT).allowed
    assert limiter.take("/api/y", "alice", LIMIT).allowed


def test_forgets_refilled_buckets_when_full(clock):
    limiter = RateLimiter(clock, max_clients=2)
    limiter.take("/api/x", "a", LIMIT)
    limiter.take("/api/x", "b", LIMIT)
    clock.advance(10)
    limiter.take("/api/x", "c", LIMIT)
    assert len(limiter._buckets) == 1
