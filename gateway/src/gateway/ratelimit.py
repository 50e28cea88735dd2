"""Rate limit per client with a token bucket.

Each client (the user when the route knows one, else the address) has a
bucket per route: it holds up to `burst` tokens and refills at `rate` per
second; a request takes one token, and finds `429` with `Retry-After` when
none is left. Every answer on a limited route carries `RateLimit-Limit`,
`RateLimit-Remaining` and `RateLimit-Reset` (IETF RateLimit header fields).
Buckets live in this process: with several gateway workers or replicas,
each keeps its own (a shared store such as Redis would make them one).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.call import Call
from gateway.routes import RateLimit
from polyshop_common.problems import Problem


@dataclass
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after_seconds: int  # until one token is back (0 when allowed)

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


class TokenBucket:
    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.updated = now

    def take(self, now: float) -> Decision:
        rate, burst = self.limit.rate, self.limit.burst
        self.tokens = min(burst, self.tokens + (now - self.updated) * rate)
        self.updated = now
        allowed = self.tokens >= 1
        if allowed:
            self.tokens -= 1
        return Decision(
            allowed=allowed,
            limit=burst,
            remaining=int(self.tokens),
            reset_seconds=math.ceil((burst - self.tokens) / rate),
            retry_after_seconds=0 if allowed else math.ceil((1 - self.tokens) / rate),
        )


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000):
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, scope: str, client: str, limit: RateLimit) -> Decision:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get((scope, client))
            if bucket is None:
                if len(self._buckets) >= self.max_clients:
                    self._forget_full_buckets(now)
                bucket = self._buckets[(scope, client)] = TokenBucket(limit, now)
            return bucket.take(now)

    def _forget_full_buckets(self, now: float) -> None:
        """A bucket that has refilled is the same as a new one: drop it."""
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * bucket.limit.rate >= bucket.limit.burst:
                del self._buckets[key]


def limit_rate(limiter: RateLimiter, call: Call) -> None:
    """Policy step: take a token for this client, or answer 429."""
    route = call.route
    if route is None or route.rate_limit is None:
        return
    client = f"user:{call.user}" if call.user else f"address:{call.request.remote_addr}"
    call.rate_limit = decision = limiter.take(route.prefix, client, route.rate_limit)
    if not decision.allowed:
        raise Problem(
            429,
            "Too many requests",
            f"Rate limit of {route.rate_limit.rate:g}/s (burst {route.rate_limit.burst}) reached.",
            headers=decision.headers(),
        )


def rate_limit_headers(call: Call) -> list[tuple[str, str]]:
    """What an allowed request's answer says about its bucket (a refusal says it itself)."""
    decision = call.rate_limit
    if decision is None or not decision.allowed:
        return []
    return list(decision.headers().items())
