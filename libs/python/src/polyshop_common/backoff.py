"""Exponential backoff with full jitter, shared by every retry loop."""

from __future__ import annotations

import random
from dataclasses import dataclass

# A generator of its own: retry loops run in background threads, and drawing
# from the `random` module's shared one would change its state under any
# other user of it (a test seeding it, Hypothesis checking it).
_jitter = random.Random()


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.2
    maximum: float = 5.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (0 for the first retry).

        Full jitter spreads retries of many clients that failed together
        (a registry restart) instead of having them knock at once.
        """
        ceiling = min(self.maximum, self.initial * self.factor**attempt)
        return _jitter.uniform(ceiling / 2, ceiling)
