"""Client-side load balancing over the live instances of a service.

Two strategies, chosen by configuration: round robin (each instance in turn)
and least outstanding requests (the instance with the fewest requests in
flight from this gateway process, which steers around a slow instance).
Both keep an in-flight count, so switching is one word in the config.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

Instance = dict[str, Any]


def instance_key(instance: Instance) -> str:
    return str(instance.get("instance_id") or f"{instance['host']}:{instance['port']}")


class Balancer:
    def __init__(self) -> None:
        self.outstanding: Counter[str] = Counter()
        self._lock = threading.Lock()

    def choose(self, service: str, candidates: Sequence[Instance]) -> Instance:
        raise NotImplementedError

    def started(self, instance: Instance) -> None:
        with self._lock:
            self.outstanding[instance_key(instance)] += 1

    def finished(self, instance: Instance) -> None:
        with self._lock:
            self.outstanding[instance_key(instance)] -= 1


class RoundRobin(Balancer):
    def __init__(self) -> None:
        super().__init__()
        self._turns: dict[str, itertools.count] = {}

    def choose(self, service: str, candidates: Sequence[Instance]) -> Instance:
        turn = self._turns.setdefault(service, itertools.count())
        return candidates[next(turn) % len(candidates)]


class LeastOutstanding(Balancer):
    def __init__(self) -> None:
        super().__init__()
        self._tiebreak = itertools.count()

    def choose(self, service: str, candidates: Sequence[Instance]) -> Instance:
        # Rotate the start so equal counts (e.g. an idle gateway) still spread out.
        start = next(self._tiebreak) % len(candidates)
        rotated = [*candidates[start:], *candidates[:start]]
        return min(rotated, key=lambda instance: self.outstanding[instance_key(instance)])


STRATEGIES = {"round_robin": RoundRobin, "least_outstanding": LeastOutstanding}


def make_balancer(name: str) -> Balancer:
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise ValueError(f"unknown balancer {name!r}; choose one of {sorted(STRATEGIES)}") from None
