"""Writes need `Authorization: Bearer <token>` of a registry credential; reads are open.

Each piece has its own credential (credentials.py): a token that may write
only the services the credential lists. Stock Eureka clients cannot send a
bearer token, only a user and password in their server URL: they send the
credential's name as the user and its token as the password (HTTP Basic).

`credential_required` finds the request's credential or answers 401;
`owner_for(service)` answers 403 unless that credential may write the
service, and names it as the instance's owner.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import g, request

from polyshop_common.problems import Problem
from registry.context import current_settings
from registry.credentials import Credential, Credentials

P = ParamSpec("P")
R = TypeVar("R")

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="registry"'}

log = logging.getLogger(__name__)


def credential_required(view: Callable[P, R]) -> Callable[P, R]:
    """Refuse the request with a 401 problem unless it carries a registry credential's token."""

    @functools.wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        authorization = request.headers.get("Authorization", "")
        g.registry_credential = authenticate(authorization, current_settings().credentials)
        return view(*args, **kwargs)

    return checked


def authenticate(authorization: str, credentials: Credentials) -> Credential:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "basic":
        return _authenticate_basic(token.strip(), credentials)
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Writes need an 'Authorization: Bearer <token>' header.")
    credential = credentials.find(token.strip())
    if credential is None:
        raise _unauthorized("The bearer token is not a registry credential.")
    return credential


def _authenticate_basic(encoded: str, credentials: Credentials) -> Credential:
    try:
        name, _, token = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthorized("The Basic credentials are not base64 of 'name:token'.") from None
    credential = credentials.find(token)
    if credential is None or credential.name != name:
        raise _unauthorized("The user and password are not a registry credential's name and token.")
    return credential


def credential_name() -> str:
    """The name of the credential that authenticated this request."""
    return g.registry_credential.name


def owner_for(service: str) -> str:
    """The name of the request's credential, once sure it may write `service`."""
    credential: Credential = g.registry_credential
    if not credential.may_write(service):
        log.warning(
            "write refused: credential %r does not list service %r", credential.name, service
        )
        detail = (
            f"The registry credential {credential.name!r} may not write instances of "
            f"service {service!r}: each piece registers with its own credential."
        )
        raise Problem(403, "Forbidden", detail)
    return credential.name


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers=CHALLENGE)
