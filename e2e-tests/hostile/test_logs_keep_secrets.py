"""After every other hostile test: no log line of any piece holds a secret.

The run's shop has secrets of its own (see conftest.py), and every request
of this folder carried tokens and passwords: the signing key, the registry
credentials, the client secrets, the storefront's secrets, the users'
passwords and every JWT (issued or forged) must be nowhere in the logs.
"""

from __future__ import annotations

import re

import pytest

# Three base64url parts, the first two JSON objects: any JWT, good or forged.
JWT = re.compile(r"eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*")


@pytest.mark.after_all_hostile
def test_no_log_of_any_piece_holds_a_secret(shop, shop_secrets, issued_tokens):
    secrets = {
        **shop_secrets.every_value(),
        **{f"issued token {n}": token for n, token in enumerate(issued_tokens)},
    }
    assert len(secrets) > 10, "the secrets to look for are there"
    logs = sorted(shop.stack.log_dir.glob("*.log"))
    assert {path.stem for path in logs} >= {
        "registry",
        "gateway",
        "catalog",
        "orders",
        "payments",
        "inventory",
        "notifications",
    }
    found = []
    for path in logs:
        text = path.read_text(errors="replace")
        found += [f"{name} in {path.name}" for name, value in secrets.items() if value in text]
        found += [f"a JWT in {path.name}: {m[:20]}..." for m in JWT.findall(text)]
    assert not found, found
