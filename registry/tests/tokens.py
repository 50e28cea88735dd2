"""The registry credentials of the tests: names, tokens, the services each may write."""

from __future__ import annotations

from polyshop_common.signing import secret_digest
from registry.credentials import Credential, Credentials

TOKEN = "test-token"
# name -> (token, services it may write)
CREDENTIALS = {
    "shop": (TOKEN, ("catalog", "orders", "payments", "c" * 63)),
    "rival": ("rival-token", ("catalog",)),  # may write catalog too, but not shop's instances
    "orders": ("orders-token", ("orders",)),
}


def credentials() -> Credentials:
    return Credentials(
        tuple(
            Credential(name, secret_digest(token), frozenset(services))
            for name, (token, services) in CREDENTIALS.items()
        )
    )


def credentials_document() -> dict[str, list[dict[str, object]]]:
    """CREDENTIALS as REGISTRY_CREDENTIALS_FILE holds them."""
    return {
        "credentials": [
            {"name": name, "token_sha256": secret_digest(token), "services": list(services)}
            for name, (token, services) in CREDENTIALS.items()
        ]
    }


def bearer(credential: str) -> dict[str, str]:
    """The Authorization header of a credential in CREDENTIALS."""
    token, _ = CREDENTIALS[credential]
    return {"Authorization": f"Bearer {token}"}
