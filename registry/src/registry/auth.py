"""Writes need `Authorization: Bearer $REGISTRY_TOKEN`; reads are open.

The token is one shared secret that every service presents when it registers,
renews its lease or leaves. It is compared in constant time, so response timing
does not tell an attacker how many leading characters were right.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import request

from polyshop_common.problems import Problem
from registry.context import current_settings

P = ParamSpec("P")
R = TypeVar("R")

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="registry"'}


def token_required(view: Callable[P, R]) -> Callable[P, R]:
    """Refuse the request with a 401 problem unless it carries the registry token."""

    @functools.wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        check_bearer_token(request.headers.get("Authorization", ""), current_settings().token)
        return view(*args, **kwargs)

    return checked


def check_bearer_token(authorization: str, expected: str) -> None:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Writes need an 'Authorization: Bearer <token>' header.")
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise _unauthorized("The bearer token is not the registry token.")


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers=CHALLENGE)
