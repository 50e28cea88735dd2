"""Steady background load through the gateway, and what each request saw.

`Load` runs a few client threads, each signed in as a demo user, each
sending a paced mix of reads and (optionally) order placements. Every
request is recorded: when it started and ended, what it was, and the status
or the error the client got. The load is bounded twice, by a request count
and by a duration, and stops by itself at whichever comes first (or when
`stop()` is called).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from support.shop import Customer

USERS = (("alice", "wonderland"), ("bob", "builder"))
# Cheap skus, all far below the payment decline limit: every order that
# gets its stock is confirmed.
SKUS = ("TEA-EARL-GREY", "FILTER-PAPERS", "TEA-SENCHA", "HONEY-ACACIA")
# Over the decline limit on its own: payments declines it, orders cancels it,
# and inventory puts the stock back. A load sees both ends of the saga.
DECLINED_SKU = "ESPRESSO-MACHINE"


@dataclass(frozen=True)
class Sent:
    """One request as the client saw it."""

    started: float
    ended: float
    user: str
    method: str
    path: str
    status: int | None  # None: no answer at all
    error: str = ""
    key: str | None = None  # the Idempotency-Key of a POST, if any
    body: dict | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400


@dataclass(frozen=True)
class Mix:
    """What one client thread sends, in turn, every `pace` seconds."""

    # Paths to GET in turn; "{order}" stands for the thread's last order.
    reads: tuple[str, ...] = ("/api/products", "/api/stock/TEA-EARL-GREY", "/api/orders/{order}")
    order_every: int = 0  # place an order every Nth request; 0: never
    keyed: bool = True  # send orders with an Idempotency-Key
    declined_every: int = 4  # every Nth order of a thread is one payments declines; 0: none
    pace: float = 0.05


@dataclass
class Load:
    gateway: str
    mix: Mix = Mix()
    threads: int = 4
    max_requests: int = 4000
    max_seconds: float = 120.0
    sent: list[Sent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _customers: list[Customer] = field(default_factory=list)
    _budget: itertools.count = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Load:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._customers = [
            Customer(self.gateway, *USERS[n % len(USERS)]) for n in range(self.threads)
        ]
        deadline = time.monotonic() + self.max_seconds
        for n, customer in enumerate(self._customers):
            worker = threading.Thread(
                target=self._run, args=(customer, deadline, n), name=f"load-{n}", daemon=True
            )
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(15)
        for customer in self._customers:
            customer.close()

    def wait_for(self, count: int, timeout: float) -> None:
        """Until `count` more requests have been answered (the load is flowing)."""
        target = len(self.sent) + count
        deadline = time.monotonic() + timeout
        while len(self.sent) < target:
            if time.monotonic() > deadline or not any(w.is_alive() for w in self._workers):
                raise AssertionError(f"the load did not send {count} requests in {timeout} s")
            time.sleep(0.05)

    # What the client saw

    def keep_for(self, seconds: float) -> None:
        """Let the load run on for `seconds` (an observation window, not a wait
        for a condition); fails if the load has stopped meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not any(w.is_alive() for w in self._workers):
                raise AssertionError("the load stopped before the window ended")
            time.sleep(0.1)

    def failures(self, which: Callable[[Sent], bool] = lambda s: True) -> list[Sent]:
        return [s for s in self.sent if which(s) and not s.ok]

    def placed(self) -> dict[str, Sent]:
        """Orders the shop accepted, by id (a replayed key counts once)."""
        return {s.body["id"]: s for s in self.sent if s.method == "POST" and s.ok and s.body}

    # The client threads

    def _run(self, customer: Customer, deadline: float, n: int) -> None:
        choose = random.Random(n)
        last_order = ""
        orders = itertools.count(1)
        for turn in itertools.count():
            if self._stop.is_set() or time.monotonic() > deadline:
                return
            if next(self._budget) >= self.max_requests:
                return
            every = self.mix.order_every
            if every and turn % every == every - 1:
                sent = self._record(self._place(customer, choose, next(orders)))
                last_order = sent.body["id"] if sent.body else last_order
            else:
                path = self.mix.reads[turn % len(self.mix.reads)]
                if "{order}" in path:  # the thread's own last order, once it has one
                    path = path.format(order=last_order) if last_order else "/api/products"
                self._record(self._send(customer, "GET", path))
            self._stop.wait(self.mix.pace)

    def _place(self, customer: Customer, choose: random.Random, nth: int) -> Sent:
        declined = self.mix.declined_every and nth % self.mix.declined_every == 0
        items = [{"sku": DECLINED_SKU if declined else choose.choice(SKUS), "quantity": 1}]
        key = str(uuid.uuid4()) if self.mix.keyed else None
        return self._send(customer, "POST", "/api/orders", items=items, key=key)

    def _send(self, customer, method, path, items=None, key=None) -> Sent:
        started, user = time.time(), customer.username
        try:
            if method == "POST":
                answer = customer.place_order(items, key=key)
            else:
                answer = customer.get(path)
        except requests.RequestException as error:
            return Sent(started, time.time(), user, method, path, None, repr(error), key)
        body = answer.json() if method == "POST" and answer.status_code < 300 else None
        error = "" if answer.ok else answer.text[:300]
        return Sent(started, time.time(), user, method, path, answer.status_code, error, key, body)

    def _record(self, sent: Sent) -> Sent:
        with self._lock:
            self.sent.append(sent)
        return sent
