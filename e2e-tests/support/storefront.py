"""Using the storefront as a person does: through its pages, in a real browser."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

ORDER_URL = re.compile(r"/orders/([0-9a-f-]{36})$")


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()


def add_to_cart(page: Page, sku: str, quantity: int = 1) -> None:
    page.goto(f"/products/{sku}")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name=re.compile(r"^Add .* to cart$")).click()
    expect(page.get_by_role("status")).to_have_text("Added to your cart.")


def place_order(page: Page) -> str:
    """Checkout and place the cart's order; the order page's id."""
    page.goto("/checkout")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(ORDER_URL)
    return order_id_of(page)


def order_id_of(page: Page) -> str:
    match = ORDER_URL.search(page.url)
    assert match, f"not an order page: {page.url}"
    return match.group(1)


def snap(page: Page, name: str) -> None:
    """With SCREENSHOTS set to a folder (`make screenshots`), keep a picture of the page."""
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
