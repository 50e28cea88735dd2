"""The order page recovers on its own: its live stream comes back after the
storefront restarts, also while orders (which the stream asks whose order
it is) is down, once orders is back."""

from __future__ import annotations

from playwright.sync_api import expect

from polyshop_dev.pieces import service_piece
from storefront.conftest import LEASE_TTL_SECONDS
from support.storefront import add_to_cart, log_in, place_order


def start_again(shop, name: str) -> None:
    """Start a stopped piece on its port, as start_shop started it."""
    env = {
        "REGISTRY_URL": f"http://127.0.0.1:{shop.ports.registry}",
        "KAFKA_BOOTSTRAP_SERVERS": shop.bootstrap,
        "DATA_DIR": str(shop.folder / "data"),
        "GATEWAY_URL": shop.gateway,
        "REGISTRY_LEASE_TTL_SECONDS": str(LEASE_TTL_SECONDS),
    }
    shop.stack.start(service_piece(name, dict(shop.ports.services)[name], env))


def test_the_order_page_reconnects_after_the_storefront_and_orders_restart(page, shop):
    log_in(page, "alice", "wonderland")
    add_to_cart(page, "TEA-EARL-GREY", 1)
    place_order(page)
    live = page.locator("#live")
    expect(page.locator("#status")).to_have_text("CONFIRMED", timeout=30_000)
    expect(live).to_have_text("live")

    shop.stack.stop("orders")
    shop.stack.stop("storefront")
    expect(live).to_have_text("reconnecting…", timeout=10_000)
    start_again(shop, "storefront")
    # The stream is refused while orders cannot say whose order it is; the page keeps trying.
    expect(live).to_have_text("reconnecting…")
    start_again(shop, "orders")

    expect(live).to_have_text("live", timeout=30_000)
    # No step shown twice after the history was sent again.
    expect(page.locator('#timeline li[data-type="order.confirmed"]')).to_have_count(1)
