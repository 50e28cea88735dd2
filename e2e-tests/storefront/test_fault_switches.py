"""The fault switches on the system view (docs/faults.md): everyone sees
where each is on; only an operator turns them, and the pieces follow."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from support import poll


def payments_faults(shop) -> dict:
    url = f"http://127.0.0.1:{dict(shop.ports.services)['payments']}/readyz"
    return requests.get(url, timeout=5).json().get("faults", {})


def test_an_operator_turns_a_switch_on_and_off_and_the_piece_follows(page, shop):
    page.goto("/system")
    switches = page.locator("#fault-switches")
    row = switches.get_by_role("row", name="decline-payments")
    expect(row.locator(".fault-state")).to_have_text("off")
    expect(switches.get_by_role("button", name="Turn on")).to_have_count(0)  # not an operator

    # A visitor's session, with its CSRF token, is still refused.
    csrf = page.locator('#operator input[name="_csrf"]').get_attribute("value")
    refused = page.request.post(
        "/system/faults", form={"_csrf": csrf, "name": "decline-payments", "on": "true"}
    )
    assert refused.status == 403
    assert payments_faults(shop) == {}

    page.get_by_label("Operator token").fill(shop.secret("storefront", "operator-token"))
    page.get_by_role("button", name="Sign in to redrive").click()
    row.get_by_label("where").select_option("payments")
    row.get_by_role("button", name="Turn on").click()
    notice = page.locator("#faults [role=status]")
    expect(notice).to_have_text("decline-payments is on in payments.")
    expect(row.locator(".fault-state")).to_have_text("ON in payments")
    poll(lambda: payments_faults(shop) == {"decline-payments": True}, 10, 0.2, "payments follows")

    row.get_by_role("button", name="Turn off").click()
    expect(row.locator(".fault-state")).to_have_text("off")
    poll(lambda: payments_faults(shop) == {}, 10, 0.2, "payments follows it off")
