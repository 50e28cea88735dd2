"""The issuer's public endpoints: its metadata, its keys, service tokens.

The gateway registers this blueprint; the test issuer serves the same one,
so what services are tested against is what they meet in the shop.

- `GET /.well-known/openid-configuration`: where the keys and the token
  endpoint are;
- `GET /.well-known/jwks.json`: the public keys, by key id;
- `POST /oauth/token`: the client-credentials grant (RFC 6749, 4.4), the
  client's service name and secret in HTTP Basic, `audience` the service it
  will call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote_plus

from flask import Blueprint, Flask, current_app, request

from polyshop_common.problems import Problem
from polyshop_common.signing import (
    ClientRefused,
    Clients,
    SigningKey,
    issuer_metadata,
    jwks,
    service_claims,
)
from polyshop_common.token_rules import RULES

EXTENSION = "polyshop.issuer"

bp = Blueprint("issuer", __name__)


@dataclass
class Issuer:
    url: str
    key: SigningKey
    clients: Clients
    # Keys retired from signing whose tokens may still be in flight.
    retired: tuple[SigningKey, ...] = ()


def register_issuer(app: Flask, issuer: Issuer) -> None:
    app.extensions[EXTENSION] = issuer
    app.register_blueprint(bp)


def _issuer() -> Issuer:
    return current_app.extensions[EXTENSION]


@bp.get(RULES.metadata_path)
def metadata():
    return issuer_metadata(_issuer().url), 200, {"Cache-Control": "public, max-age=300"}


@bp.get(RULES.jwks_path)
def keys():
    issuer = _issuer()
    return jwks(issuer.key, *issuer.retired), 200, {"Cache-Control": "public, max-age=300"}


@bp.post(RULES.service_token_path)
def service_token():
    issuer = _issuer()
    form = request.form
    if form.get("grant_type") != "client_credentials" or not form.get("audience"):
        raise Problem(
            400,
            "Bad request",
            "Send grant_type=client_credentials and an audience, form-encoded.",
            error="unsupported_grant_type" if form.get("grant_type") else "invalid_request",
        )
    client = request.authorization
    if client is None or client.type != "basic" or not client.username:
        raise _client_problem(ClientRefused(401, "Send the client id and secret in HTTP Basic."))
    audience = form["audience"]
    # RFC 6749 2.3.1: the client's id and secret are form-encoded inside Basic.
    client_id, secret = unquote_plus(client.username), unquote_plus(client.password or "")
    try:
        issuer.clients.check(client_id, secret, audience)
    except ClientRefused as refused:
        raise _client_problem(refused) from None
    token = issuer.key.sign(service_claims(issuer.url, client_id, audience, int(time.time())))
    return (
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": RULES.service_token_seconds,
        },
        200,
        {"Cache-Control": "no-store"},
    )


def _client_problem(refused: ClientRefused) -> Problem:
    if refused.status == 401:
        return Problem(
            401,
            "Unauthorized",
            refused.detail,
            headers={"WWW-Authenticate": 'Basic realm="polyshop"'},
            error="invalid_client",
        )
    return Problem(403, "Forbidden", refused.detail, error="unauthorized_client")
