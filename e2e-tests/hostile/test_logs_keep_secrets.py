"""After every other hostile test: no log line of any piece holds a secret.

The run's shop has secrets of its own (see conftest.py), and every request
of this folder carried tokens and passwords: the JWT secret, the registry
token, the demo users' passwords and every JWT (issued, signed for a
service's port, or forged) must be nowhere in the logs.
"""

from __future__ import annotations

import re

import pytest

# Three base64url parts, the first two JSON objects: any JWT, good or forged.
JWT = re.compile(r"eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*")


@pytest.mark.after_all_hostile
def test_no_log_of_any_piece_holds_a_secret(shop, shop_secrets, issued_tokens):
    secrets = {
        "JWT_SECRET": shop_secrets.jwt_secret,
        "REGISTRY_TOKEN": shop_secrets.registry_token,
        **{f"{user}'s password": password for user, password in shop_secrets.passwords.items()},
        **{f"issued token {n}": token for n, token in enumerate(issued_tokens)},
    }
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
