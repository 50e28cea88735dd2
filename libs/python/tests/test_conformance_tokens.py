"""contracts/conformance/tokens.json against this library's verifier and a
real issuer over HTTP; the Node.js library runs the same file
(libs/node/test/unit/conformance.test.js)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from polyshop_common.identity import InvalidToken, Principal, TokenVerifier
from polyshop_common.local_issuer import LocalIssuer
from polyshop_common.signing import SigningKey
from polyshop_common.testing import conformance_cases

CASES = conformance_cases("tokens")


@pytest.fixture(scope="module")
def issuer():
    issuer = LocalIssuer()
    yield issuer
    issuer.close()


def resolve(value: Any, issuer_url: str, now: int) -> Any:
    if value == "$issuer":
        return issuer_url
    if isinstance(value, str) and value.startswith("$now"):
        return now + int(value.removeprefix("$now") or 0)
    return value


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["name"])
def test_a_token_is_accepted_as_its_principal_or_refused(issuer, case):
    now = int(time.time())
    claims = {name: resolve(value, issuer.url, now) for name, value in case["claims"].items()}
    if case.get("signed_by") == "stranger":
        stranger = SigningKey.generate().private_key
        token = jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": issuer.key.kid})
    else:
        token = issuer.sign(claims)
    verifier = TokenVerifier(issuer.url, case["verifier"])
    if case["expect"] == "refused":
        with pytest.raises(InvalidToken):
            verifier.verify(token)
        return
    expected = Principal(case["expect"]["name"], is_service=case["expect"]["is_service"])
    assert verifier.verify(token) == expected
