"""The system view, live: instances as they come and go, the gateway's
routes, the saga lane by lane, consumer lag and dead letters."""

from __future__ import annotations

import signal
import time

from playwright.sync_api import expect

from polyshop_dev.pieces import BIN, free_port
from polyshop_dev.stack import Piece, http_ok
from storefront.conftest import LEASE_TTL_SECONDS, SYSTEM_VIEW_AGENT
from support import poll, registered_ids
from support.kafka_probe import send_raw
from support.storefront import snap

AGENT_SERVICE = SYSTEM_VIEW_AGENT


def start_agent(shop) -> Piece:
    """A real process that registers through the Python registry client."""
    port = free_port()
    piece = Piece(
        name=AGENT_SERVICE,
        command=[str(BIN / "python"), "e2e-tests/agents/python_agent.py"],
        ready=http_ok(f"http://127.0.0.1:{port}/livez"),
        env={
            "PORT": str(port),
            "REGISTRY_URL": f"http://127.0.0.1:{shop.ports.registry}",
            "REGISTRY_TOKEN": shop.secret(AGENT_SERVICE, "registry-token"),
            "AGENT_SERVICE": AGENT_SERVICE,
        },
        url=f"http://127.0.0.1:{port}",
    )
    shop.stack.start(piece)
    return piece


def test_an_instance_shows_within_two_seconds_and_leaves_when_its_lease_runs_out(page, shop):
    registry = f"http://127.0.0.1:{shop.ports.registry}"
    page.goto("/system")
    expect(page.locator("#live")).to_have_text("live")
    rows = page.locator("#instances tbody tr")
    expect(rows.filter(has_text="storefront")).to_have_count(1)

    agent = start_agent(shop)
    poll(lambda: registered_ids(registry, AGENT_SERVICE), 10, what="the agent registered")
    registered_at = time.monotonic()
    agent_row = rows.filter(has_text=AGENT_SERVICE)
    expect(agent_row).to_contain_text("up", timeout=2_000)
    assert time.monotonic() - registered_at <= 2.0
    expect(agent_row).to_contain_text(agent.url.removeprefix("http://"))

    shop.stack.stop(AGENT_SERVICE, sig=signal.SIGKILL)  # no goodbye: only the lease can tell
    expect(agent_row).to_contain_text("left: lease ran out", timeout=(LEASE_TTL_SECONDS + 5) * 1000)
    expect(agent_row).to_have_count(0, timeout=20_000)


def test_the_gateway_routes_the_saga_lanes_and_the_dead_letters_are_shown(page, shop, alice):
    order_id = alice.place_order([{"sku": "TEA-EARL-GREY", "quantity": 1}]).json()["id"]
    alice.wait_until_finished(order_id)
    send_raw(shop.bootstrap, "payments", b"system-view-test", b"{not json")

    page.goto("/system")

    lane = page.locator(f'.lane[data-order-id="{order_id}"]')
    expect(lane.locator('[aria-label="inventory"] li')).to_contain_text(["Stock reserved"])
    expect(lane.locator('[aria-label="notifications"] li')).to_contain_text(["Customer notified"])
    expect(page.locator("#routes tbody")).to_contain_text("/api/orders")
    expect(page.locator("#upstreams tbody")).to_contain_text("closed")
    expect(page.locator("#groups tbody")).to_contain_text("inventory")
    dead = page.locator('.dlq[data-topic="payments.dlq"]')
    expect(dead).to_contain_text("by orders", timeout=20_000)
    expect(dead).to_contain_text("not JSON")
    assert "alice" not in page.locator("main").inner_text(), "a user name on the projector"
    snap(page, "system")
