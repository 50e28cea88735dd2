"""An open-loop load: requests leave on a fixed schedule, whatever the answers.

A closed loop (send, wait for the answer, send again) slows down as soon as
the server does, and so hides the queueing it should measure. Here request i
leaves at start + i / rate. Its latency counts from that planned moment, so
time spent waiting behind slow answers is counted too ("coordinated
omission" avoided). Requests still unanswered when `max_in_flight` is
reached are not sent at all and are counted as dropped.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

Send = Callable[[int], Awaitable[tuple[int, Any]]]
NO_ANSWER = 0  # status of a request that got no HTTP answer (timeout, refused, dropped)


@dataclass(frozen=True)
class Outcome:
    index: int
    planned: float  # wall-clock time (time.time) the request was due to leave
    latency: float  # seconds from `planned` to the answer
    status: int
    value: Any  # what `send` returned besides the status


@dataclass
class Run:
    rate: float
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    dropped: int = 0
    late_max: float = 0.0  # how far the generator itself fell behind its schedule
    ended: float = 0.0  # wall-clock time of the last answer

    @property
    def planned(self) -> int:
        return round(self.rate * self.seconds)

    def count(self, *statuses: int) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status in statuses)

    def latencies(self, *statuses: int) -> list[float]:
        return [o.latency for o in self.outcomes if o.status in statuses]

    def achieved(self, *statuses: int) -> float:
        """Answers with these statuses per second, from the first planned
        departure to the last answer: below the rate when a backlog built up."""
        first = min((o.planned for o in self.outcomes), default=self.ended)
        return self.count(*statuses) / max(self.ended - first, self.seconds)


async def open_loop(send: Send, rate: float, seconds: float, max_in_flight: int = 2000) -> Run:
    """Call `send(i)` at start + i / rate for `seconds`; wait for every answer."""
    loop = asyncio.get_running_loop()
    run = Run(rate, seconds)
    start = loop.time() + 0.01
    wall_start = time.time() + (start - loop.time())
    pending: set[asyncio.Task] = set()
    for index in range(run.planned):
        due = start + index / rate
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            run.late_max = max(run.late_max, -wait)
        if len(pending) >= max_in_flight:
            run.dropped += 1
            continue
        planned = wall_start + index / rate
        task = asyncio.create_task(_timed(send, index, planned, due, run))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending)
    run.ended = time.time()
    return run


async def _timed(send: Send, index: int, planned: float, due: float, run: Run) -> None:
    loop = asyncio.get_running_loop()
    try:
        status, value = await send(index)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        status, value = NO_ANSWER, f"{type(error).__name__}: {error}"
    run.outcomes.append(Outcome(index, planned, loop.time() - due, status, value))


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]
