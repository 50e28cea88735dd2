"""Buying in the storefront, in a real browser, through the gateway: the
saga followed live on the order page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from support.storefront import add_to_cart, log_in, place_order, snap

SAGA_TIMEOUT_MS = 30_000


def test_alice_buys_two_products_and_watches_the_order_confirmed_without_a_reload(page, alice):
    log_in(page, "alice", "wonderland")
    page.goto("/")
    expect(page.get_by_role("heading", name="Products")).to_be_visible()
    add_to_cart(page, "TEA-SENCHA", 2)
    add_to_cart(page, "HONEY-ACACIA", 1)
    page.goto("/checkout")
    expect(page.get_by_text("Total: €27.70")).to_be_visible()  # 2 x €8.90 + €9.90

    order_id = place_order(page)
    page.evaluate("window.sameDocument = true")
    requests_after_load = []
    page.on("request", lambda request: requests_after_load.append(request.url))

    expect(page.locator("#status")).to_have_text("CONFIRMED", timeout=SAGA_TIMEOUT_MS)

    def step(event_type):
        return page.locator(f'#timeline li[data-type="{event_type}"]')

    notified = step("notification.sent")
    expect(notified).to_contain_text("notifications (Node.js)", timeout=SAGA_TIMEOUT_MS)
    expect(step("order.created")).to_contain_text("Order placed")
    expect(step("inventory.reserved")).to_contain_text("Stock reserved")
    expect(step("inventory.reserved")).to_contain_text("inventory (Node.js)")
    expect(step("payment.authorized")).to_contain_text("payments (Python)")
    expect(step("order.confirmed")).to_contain_text(re.compile(r"orders \(Python\)\s*\+\d+ ms"))
    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"
    assert not [url for url in requests_after_load if "/events" not in url], "the page polled"
    assert alice.order(order_id)["status"] == "CONFIRMED"

    page.get_by_role("link", name="My orders").click()
    expect(page.get_by_role("link", name=order_id[:8])).to_be_visible()
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("link", name=re.compile(f"{order_id[:8]}.*confirmed"))).to_be_visible()


def test_an_order_over_the_payment_limit_shows_cancelled_with_its_reason(page):
    log_in(page, "alice", "wonderland")
    add_to_cart(page, "ESPRESSO-MACHINE", 1)

    place_order(page)

    expect(page.locator("#status")).to_have_text("CANCELLED", timeout=SAGA_TIMEOUT_MS)
    expect(page.locator("#reason")).to_contain_text("Why: Payment declined")
    expect(page.locator('#timeline li[data-type="payment.declined"]')).to_have_count(1)
    snap(page, "order-cancelled")


def test_a_double_click_on_place_order_places_one_order(page, alice):
    log_in(page, "alice", "wonderland")
    add_to_cart(page, "FILTER-PAPERS", 1)
    before = {order["id"] for order in alice.get("/api/orders").json()}
    page.goto("/checkout")
    form = {
        "_csrf": page.locator("#checkout input[name=_csrf]").input_value(),
        "idempotency_key": page.locator("#checkout input[name=idempotency_key]").input_value(),
    }

    page.get_by_role("button", name="Place order").dblclick()
    page.wait_for_url(re.compile(r"/orders/[0-9a-f-]{36}$"))
    # The form sent once more, as a second click that got through would:
    # same session, same key. It finds the order the first one made.
    again = page.request.post("/checkout", form=form, max_redirects=0)
    assert again.status == 303
    assert again.headers["location"] == page.url.removeprefix(page.url.split("/orders/")[0])
    page.reload()  # a reload of the confirmation is a GET: it places nothing

    after = {order["id"] for order in alice.get("/api/orders").json()}
    assert len(after - before) == 1
