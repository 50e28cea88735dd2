"""Guessing passwords at the shop's front door: the gateway stops answering
for a user name after a few failures, the right password included, and says
when to come back (docs/security.md, "Tokens")."""

from __future__ import annotations

from support.hostile import assert_problem

# Each gateway worker counts on its own (no shared store in the demo): at
# most this many failures pass before every worker holds the name.
PER_USER = 5
GATEWAY_WORKERS = 2


def test_guessing_a_password_is_held_after_a_few_failures(http, shop):
    def attempt(password: str):
        return http.post(
            f"{shop.gateway}/auth/token",
            json={"username": "mallory", "password": password},
            timeout=10,
        )

    statuses = [attempt(f"guess-{n}").status_code for n in range(40)]

    assert set(statuses) == {401, 429}, statuses
    assert statuses.count(401) <= PER_USER * GATEWAY_WORKERS
    held = attempt("guess-41")
    assert_problem(held, 429)
    assert int(held.headers["Retry-After"]) > 0
