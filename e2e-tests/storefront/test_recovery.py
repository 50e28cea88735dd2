"""The order page recovers on its own: its live stream comes back after the
storefront restarts, also while orders (which the stream asks whose order
it is) is down, once orders is back."""

from __future__ import annotations

from playwright.sync_api import expect

from support.storefront import add_to_cart, log_in, place_order


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
    shop.start_again("storefront")
    # The stream is refused while orders cannot say whose order it is; the page keeps trying.
    expect(live).to_have_text("reconnecting…")
    shop.start_again("orders")

    expect(live).to_have_text("live", timeout=30_000)
    # No step shown twice after the history was sent again.
    expect(page.locator('#timeline li[data-type="order.confirmed"]')).to_have_count(1)
