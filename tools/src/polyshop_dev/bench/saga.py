"""The saga under open-loop load: orders placed through the gateway at a
fixed rate, each followed to its final status on the `orders` topic, and the
consumer groups watched until they have caught up.

Orders are one unit of one cheap product (below the payment decline limit),
drawn at random. Inventory starts with stock for the whole run (the stand's
INVENTORY_SEED_FILE), so every order can go the whole saga to CONFIRMED; an
order cancelled all the same (a timeout) is final too, and shown apart.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import time
from dataclasses import dataclass, field

import aiohttp

from polyshop_dev.bench.lag import LagProbe, Sample
from polyshop_dev.bench.openloop import Run, open_loop, percentile
from polyshop_dev.bench.terminal import Final, FinalEvents
from polyshop_dev.paths import CONTRACTS

DECLINE_OVER_CENTS = 50000  # payments' default PAYMENTS_DECLINE_OVER_CENTS
DRAIN_TIMEOUT = 60.0
ACCEPTED = 202
SOAK = "50/s, long"  # the long load after which the footprint is measured


@dataclass
class Phase:
    name: str
    run: Run
    loadavg: tuple[float, float, float]
    finals: dict[str, Final] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    peak_lag: int = 0
    drained_after: float | None = None  # seconds from the last departure; None: not drained
    stages: dict[str, list[float]] = field(default_factory=dict)  # see stages.py

    @property
    def due(self) -> dict[str, float]:
        """When each accepted order's POST was due, by order id."""
        return {o.value: o.planned for o in self.run.outcomes if o.status == ACCEPTED}

    @property
    def accepted(self) -> list[str]:
        return [o.value for o in self.run.outcomes if o.status == ACCEPTED]

    def final_latencies(self, kind: str | None = None, received: bool = False) -> list[float]:
        planned = self.due
        return [
            (final.received if received else final.time) - planned[order_id]
            for order_id, final in self.finals.items()
            if kind is None or final.type == kind
        ]

    def final_p(self, percent: float, kind: str | None = None) -> float:
        return percentile(self.final_latencies(kind), percent)


def cheap_skus(count: int, seed: int) -> list[str]:
    products = json.loads((CONTRACTS / "seed" / "products.json").read_text())["products"]
    cheap = [p["sku"] for p in products if p["price_cents"] <= DECLINE_OVER_CENTS]
    return random.Random(seed).choices(cheap, k=count)


def run_phase(
    name: str,
    gateway: str,
    tokens: list[str],
    rate: float,
    seconds: float,
    finals: FinalEvents,
    probe: LagProbe,
) -> Phase:
    """Place orders at `rate` for `seconds`, then wait until every accepted
    order is final and every group's lag is 0 (at most DRAIN_TIMEOUT s)."""
    peak = _PeakLag(probe)
    loadavg = os.getloadavg()
    with peak:
        run = asyncio.run(_place_orders(gateway, tokens, rate, seconds, seed=len(name)))
    phase = Phase(name, run, loadavg, peak_lag=peak.peak)
    last_departure = min((o.planned for o in run.outcomes), default=time.time()) + seconds
    phase.drained_after, phase.missing = _drain(phase.accepted, finals, probe, last_departure)
    phase.finals = {i: f for i in phase.accepted if (f := finals.get(i)) is not None}
    return phase


async def _place_orders(
    gateway: str, tokens: list[str], rate: float, seconds: float, seed: int
) -> Run:
    skus = cheap_skus(round(rate * seconds), seed)
    url = f"{gateway}/api/orders"
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def place(index: int) -> tuple[int, str]:
            body = {"items": [{"sku": skus[index], "quantity": 1}]}
            headers = {"Authorization": f"Bearer {tokens[index % len(tokens)]}"}
            async with session.post(url, json=body, headers=headers) as answer:
                text = await answer.text()
                if answer.status == ACCEPTED:
                    return answer.status, json.loads(text)["id"]
                return answer.status, text[:200]

        return await open_loop(place, rate, seconds)


def _drain(
    accepted: list[str], finals: FinalEvents, probe: LagProbe, since: float
) -> tuple[float | None, list[str]]:
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        missing = finals.missing(accepted)
        sample = probe.sample()
        if not missing and sample.total == 0:
            return max(sample.at - since, 0.0), []
        time.sleep(0.1)
    return None, finals.missing(accepted)


class _PeakLag:
    """The largest total lag seen, sampled every half second in a thread
    while a load runs."""

    def __init__(self, probe: LagProbe, interval: float = 0.5) -> None:
        self._probe = probe
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-lag", daemon=True)
        self.samples: list[Sample] = []

    @property
    def peak(self) -> int:
        return max((s.total for s in self.samples), default=0)

    def __enter__(self) -> _PeakLag:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.samples.append(self._probe.sample())
