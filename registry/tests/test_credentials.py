"""A token finds its credential by its SHA-256 digest; nothing else does."""

from __future__ import annotations

import hashlib

from registry.credentials import Credential, Credentials, parse


def test_a_token_finds_the_credential_of_its_digest():
    document = {
        "credentials": [
            {
                "name": "orders",
                "token_sha256": hashlib.sha256(b"orders-token").hexdigest().upper(),
                "services": ["orders"],
            },
            {
                "name": "catalog",
                "token_sha256": hashlib.sha256(b"catalog-token").hexdigest(),
                "services": ["catalog"],
            },
        ]
    }
    credentials = parse(document)

    found = credentials.find("orders-token")

    assert found == Credential(
        "orders", hashlib.sha256(b"orders-token").hexdigest(), frozenset({"orders"})
    )
    assert found.may_write("orders") and not found.may_write("catalog")
    assert credentials.find("catalog-token").name == "catalog"


def test_neither_a_digest_nor_a_near_token_finds_a_credential():
    digest = hashlib.sha256(b"orders-token").hexdigest()
    credentials = Credentials((Credential("orders", digest, frozenset({"orders"})),))

    assert credentials.find(digest) is None
    assert credentials.find("orders-toke") is None
    assert credentials.find("") is None
