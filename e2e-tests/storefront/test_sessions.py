"""The browser never holds the token: an HttpOnly session cookie, CSRF
tokens on forms, and clear answers to what does not belong."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect

from support.storefront import log_in, snap

COOKIE = "polyshop.sid"


def session_cookie(page) -> dict:
    return next(c for c in page.context.cookies() if c["name"] == COOKIE)


def test_the_session_cookie_is_httponly_strict_and_holds_no_token(page):
    log_in(page, "alice", "wonderland")

    cookie = session_cookie(page)

    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert "eyJ" not in cookie["value"], "a JWT in the cookie"
    assert page.evaluate("document.cookie") == "", "a script can read the cookie"
    assert "eyJ" not in page.content()


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(page):
    log_in(page, "alice", "wonderland")
    page.goto("/cart")

    missing = page.request.post("/cart", form={"sku": "TEA-SENCHA", "quantity": "1"})
    forged = page.request.post(
        "/cart", form={"sku": "TEA-SENCHA", "quantity": "1", "_csrf": "not-the-token"}
    )
    checkout = page.request.post("/checkout", form={"idempotency_key": "x"})

    assert (missing.status, forged.status, checkout.status) == (403, 403, 403)
    page.goto("/cart")
    expect(page.get_by_text("Your cart is empty")).to_be_visible()
    problem = page.request.post(
        "/cart", form={"sku": "TEA-SENCHA"}, headers={"Accept": "application/json"}
    )
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert problem.json()["status"] == 403


def test_bob_cannot_open_alices_order_page_or_its_events(page, alice):
    order_id = alice.place_order([{"sku": "MUG-STONEWARE", "quantity": 1}]).json()["id"]
    log_in(page, "bob", "builder")

    answer = page.goto(f"/orders/{order_id}")

    assert answer.status == 404
    expect(page.get_by_role("heading", name="Not Found")).to_be_visible()
    events = page.request.get(f"/orders/{order_id}/events", headers={"Accept": "text/event-stream"})
    assert events.status == 404
    assert alice.get(f"/api/orders/{order_id}").status_code == 200


def test_an_unknown_product_or_order_gets_a_clear_page(page):
    log_in(page, "alice", "wonderland")

    product = page.goto("/products/NO-SUCH-THING")
    expect(page.get_by_text("We have no product NO-SUCH-THING.")).to_be_visible()
    snap(page, "not-found")
    order = page.goto("/orders/00000000-0000-4000-8000-000000000000")

    assert (product.status, order.status) == (404, 404)
    expect(page.get_by_text("You have no order")).to_be_visible()


def test_a_tampered_session_cookie_is_a_visitor_again(page, shop):
    log_in(page, "alice", "wonderland")
    cookie = session_cookie(page)
    tampered = cookie["value"][:-3] + ("AAA" if not cookie["value"].endswith("AAA") else "BBB")
    page.context.add_cookies([{**cookie, "value": tampered}])

    page.goto("/orders")

    assert "/login" in page.url
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_an_expired_session_asks_to_log_in_again(page, shop):
    log_in(page, "alice", "wonderland")
    # The session's token runs out: as an hour later, in the storefront's own store.
    with sqlite3.connect(shop.folder / "data" / "storefront.db") as db:
        rows = db.execute("SELECT id, data FROM sessions").fetchall()
        for session_id, data in rows:
            if '"user":"alice"' in data:
                expired = data.replace('"tokenExpiresAt":', '"tokenExpiresAt":0,"was":')
                db.execute("UPDATE sessions SET data = ? WHERE id = ?", (expired, session_id))

    page.goto("/orders")

    assert "/login" in page.url
    expect(page.get_by_role("status")).to_have_text("Your session has ended: please log in again.")
