"""Where views find the price source, the contracts and the outbox relay: on the app,
not in globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from orders.pricing import Prices
from polyshop_common.events import Contracts

EXTENSION = "orders"


@dataclass(frozen=True)
class OrdersContext:
    prices: Prices
    contracts: Contracts  # what the events of new orders are checked against
    wake_relay: Callable[[], None]  # publish a new order's event now, not at the next tick


def init_app(
    app: Flask, prices: Prices, contracts: Contracts, wake_relay: Callable[[], None]
) -> None:
    app.extensions[EXTENSION] = OrdersContext(prices, contracts, wake_relay)


def current() -> OrdersContext:
    return current_app.extensions[EXTENSION]
