"""Every page: no serious accessibility violation (axe-core), usable with
the keyboard, and small (under 150 KB transferred, every asset served by
the shop itself)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from support.browser import accessibility_violations
from support.storefront import add_to_cart, log_in, snap

PAGE_BUDGET_BYTES = 150 * 1024


@pytest.fixture(scope="module")
def order_id(alice) -> str:
    placed = alice.place_order([{"sku": "COFFEE-BEANS", "quantity": 1}]).json()["id"]
    return alice.wait_until_finished(placed)["id"]


# Every page, with the name of its picture in docs/screenshots (`make
# screenshots`); the system view's is taken where it has something to show.
PAGES = {
    "/": "products",
    "/products/TEA-SENCHA": "product",
    "/cart": "cart",
    "/login": "login",
    "/checkout": "checkout",
    "/orders": "orders",
    "/orders/{order_id}": "order",
    "/notifications": "notifications",
    "/system": None,
}


@pytest.mark.parametrize("path", PAGES)
def test_a_page_has_no_serious_accessibility_violation_and_stays_small(page, shop, path, order_id):
    if path != "/login":
        log_in(page, "alice", "wonderland")
        add_to_cart(page, "TEA-SENCHA", 1)
    sizes = {}
    page.on("response", lambda response: record_size(sizes, response, shop.gateway))

    answer = page.goto(path.format(order_id=order_id))
    page.wait_for_load_state("load")

    assert answer.status == 200
    assert accessibility_violations(page) == []
    assert sum(sizes.values()) < PAGE_BUDGET_BYTES, sizes
    if PAGES[path]:
        snap(page, PAGES[path])


def record_size(sizes: dict, response, gateway: str) -> None:
    assert urlsplit(response.url).netloc in (urlsplit(gateway).netloc, ""), response.url
    if "text/event-stream" in response.headers.get("content-type", ""):
        return  # a stream that stays open; its messages are not the page
    sizes[response.url] = len(response.body())


def test_the_shop_works_with_the_keyboard_alone(page):
    page.goto("/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("User name").focus()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("wonderland")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed in as alice")).to_be_visible()

    page.goto("/products/TEA-SENCHA")
    page.get_by_label("Quantity").focus()
    page.keyboard.press("Tab")
    button = page.get_by_role("button", name="Add Sencha green tea, 100 g to cart")
    expect(button).to_be_focused()
    outline = button.evaluate("b => getComputedStyle(b).outlineStyle")
    page.keyboard.press("Enter")

    assert outline == "solid", "the focused button shows no focus ring"
    expect(page.get_by_role("status")).to_have_text("Added to your cart.")
