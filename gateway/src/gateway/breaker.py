"""Circuit breaker per upstream instance (outlier ejection).

An instance whose requests time out `failure_threshold` times in a row is
*open*: ejected from load balancing for a cool-down. A connection refused or
reset opens it at once (the caller says so with `eject`): the instance is not
serving, and every further request sent to it would be one more failure.
After the cool-down it is *half-open*: one request is let through as a probe.
The probe's success closes the breaker; its failure opens it for another
cool-down. The registry alone cannot do this: it keeps an instance for a
whole lease after the instance died.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int,
        cooldown_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str], None] = lambda _state: None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        self.clock = clock
        self.failures = 0
        self.ejections = 0  # times it opened: how often this instance was taken out
        self.opened_at: float | None = None
        self.probing = False
        self.on_change = on_change  # told each state it moves to (metrics.py)
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return CLOSED
        if self.clock() - self.opened_at < self.cooldown_seconds:
            return OPEN
        return HALF_OPEN

    def available(self) -> bool:
        """May the balancer consider this instance? Changes nothing."""
        state = self.state
        return state == CLOSED or (state == HALF_OPEN and not self.probing)

    def acquire(self) -> bool:
        """Claim a request; in half-open, only one caller gets the probe."""
        with self._lock:
            state = self.state
            if state == CLOSED:
                return True
            if state == HALF_OPEN and not self.probing:
                self.probing = True
                self.on_change(HALF_OPEN)
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            was_open = self.opened_at is not None
            self.failures = 0
            self.opened_at = None
            self.probing = False
            if was_open:
                self.on_change(CLOSED)

    def record_failure(self, eject: bool = False) -> None:
        """Count a failure; `eject` opens the breaker whatever the count."""
        with self._lock:
            self.failures += 1
            if eject or self.probing or self.failures >= self.failure_threshold:
                # A late failure while open only extends the cool-down.
                opens = self.state != OPEN
                self.opened_at = self.clock()
                if opens:
                    self.ejections += 1
                    self.on_change(OPEN)
            self.probing = False


class Breakers:
    """One breaker per instance, made on first use, and made again when the
    instance registers anew: a restarted instance starts with a clean record."""

    def __init__(
        self,
        failure_threshold: int,
        cooldown_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, str], None] = lambda _key, _state: None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        self.clock = clock
        self.on_change = on_change  # told (instance key, state) of every breaker's moves
        self._breakers: dict[str, CircuitBreaker] = {}
        self._registered: dict[str, object] = {}
        self._lock = threading.Lock()

    def of(self, instance_key: str, registered_at: object) -> CircuitBreaker:
        """The breaker of one registration of an instance (`registered_at` tells
        registrations apart: the registry keeps it while the lease is renewed)."""
        if self._registered.get(instance_key) != registered_at:
            with self._lock:
                if self._registered.get(instance_key, registered_at) != registered_at:
                    self._breakers.pop(instance_key, None)
                self._registered[instance_key] = registered_at
        return self[instance_key]

    def peek(self, instance_key: str, registered_at: object) -> CircuitBreaker | None:
        """The breaker of this registration if requests have made one; makes
        none, so a read-only view changes nothing."""
        if self._registered.get(instance_key) != registered_at:
            return None
        return self._breakers.get(instance_key)

    def __getitem__(self, instance_key: str) -> CircuitBreaker:
        breaker = self._breakers.get(instance_key)
        if breaker is None:
            with self._lock:
                breaker = self._breakers.get(instance_key)
                if breaker is None:
                    breaker = self._breakers[instance_key] = self._make(instance_key)
        return breaker

    def _make(self, instance_key: str) -> CircuitBreaker:
        def changed(state: str) -> None:
            self.on_change(instance_key, state)

        changed(CLOSED)
        return CircuitBreaker(self.failure_threshold, self.cooldown_seconds, self.clock, changed)

    def states(self) -> dict[str, str]:
        return {key: breaker.state for key, breaker in self._breakers.items()}
