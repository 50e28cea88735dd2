"""The fault switches in containers (docs/faults.md): turned with the
compose file's `fault-switches` job, followed by the pieces through the
flag file's volume."""

from __future__ import annotations

import subprocess

from support import poll
from support.compose import ComposeShop

ONE = [{"sku": "TEA-SENCHA", "quantity": 1}]


def faults(shop: ComposeShop, *args: str) -> str:
    command = [
        *shop.compose.compose_command_property,
        "run",
        "--rm",
        "fault-switches",
        "python",
        "-m",
        "polyshop_dev.faults",
        *args,
    ]
    done = subprocess.run(command, cwd=shop.compose.context, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def an_order_ending(customer, status: str) -> dict:
    """Orders placed one after another until one ends `status` (a switch
    reaches the pieces within a second or five, not at once)."""

    def placed() -> dict | None:
        order_id = customer.place_order(ONE).json()["id"]
        ended = customer.wait_until_finished(order_id, timeout=30)
        return ended if ended["status"] == status else None

    return poll(placed, 45, interval=0.5, what=f"an order ends {status}")


def test_declined_payments_in_containers_then_confirmed_again(shop: ComposeShop, alice):
    assert "ON everywhere" in faults(shop, "on", "decline-payments")
    try:
        cancelled = an_order_ending(alice, "CANCELLED")
        assert "decline-payments" in cancelled["reason"]
    finally:
        assert "ON" not in faults(shop, "off", "decline-payments")
    assert an_order_ending(alice, "CONFIRMED")["status"] == "CONFIRMED"
