"""What the hostile-input tests share: the two doors to a service, tokens
good and bad, and the one check every error answer must pass."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis

from polyshop_common.signing import SigningKey

PROBLEM_JSON = "application/problem+json"
# The first path of each service's API, as the gateway routes it.
SERVICE_PATHS = {
    "catalog": "/products",
    "orders": "/orders",
    "payments": "/payments",
    "inventory": "/stock",
    "notifications": "/notifications",
}
# Strings that break a query built by pasting text into SQL.
SQL_INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE orders;--",
    '" OR 1=1 --',
    "' UNION SELECT name, sql, 1, 1 FROM sqlite_master --",
    "%' OR user LIKE '%",
]


@dataclass(frozen=True)
class Secrets:
    """The run's generated secrets (polyshop_dev.secrets) and the users' passwords."""

    folder: Path
    passwords: dict[str, str] = field(default_factory=dict)

    def signing_key(self) -> SigningKey:
        return SigningKey.from_pem_file(self.folder / "gateway" / "signing-key.pem")

    def registry_token(self, credential: str) -> str:
        return (self.folder / credential / "registry-token").read_text().strip()

    def every_value(self) -> dict[str, str]:
        """Every secret by a name for it: files (a key's base64 body) and passwords."""
        values = {f"{user}'s password": password for user, password in self.passwords.items()}
        for path in self.folder.rglob("*"):
            if path.is_file() and path.suffix != ".json":  # the JSON files hold digests
                body = [line for line in path.read_text().splitlines() if "-----" not in line]
                values[str(path.relative_to(self.folder))] = "".join(body)
        return values


@dataclass(frozen=True)
class Door:
    """One way in to every service: its base URL by service name, and a
    token of alice's that this door accepts."""

    name: str
    base_url: Callable[[str], str]
    token: str

    def url(self, service: str, path: str) -> str:
        return self.base_url(service) + path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def sign(claims: Mapping[str, Any], key: SigningKey, ttl: int = 600) -> str:
    """A token signed with `key` as the gateway signs them, `iat` and `exp` added."""
    now = int(time.time())
    return key.sign({"iat": now, "exp": now + ttl, **claims})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: Mapping[str, Any]) -> str:
    """A token with `alg: none` and no signature."""
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(dict(claims)).encode())}."


def with_payload(token: str, claims: Mapping[str, Any]) -> str:
    """The token with its payload swapped, the original signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{b64(json.dumps(dict(claims)).encode())}.{signature}"


def with_flipped_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    return f"{header}.{payload}.{flipped}"


def problem_failures(response: requests.Response | schemathesis.Response) -> list[str]:
    """What makes this answer not a proper answer of a hostile request:
    a 5xx, or a 4xx that is not RFC 9457 problem JSON."""
    status = response.status_code
    text = response.content.decode("utf-8", "replace")
    where = f"{response.request.method} {response.request.url} -> {status}"
    if status >= 500:
        return [f"{where}: server error {text[:300]!r}"]
    if status < 400:
        return []
    content_type = header(response, "Content-Type")
    if not content_type.startswith(PROBLEM_JSON):
        return [f"{where}: Content-Type {content_type!r}, not {PROBLEM_JSON}"]
    try:
        body = json.loads(text)
    except ValueError:
        return [f"{where}: body is not JSON {text[:300]!r}"]
    if not isinstance(body, dict):
        return [f"{where}: problem body is not an object {body!r}"]
    missing = [key for key in ("type", "title", "status") if key not in body]
    failures = [f"{where}: problem body lacks {missing}"] if missing else []
    if body.get("status") != status:
        failures.append(f"{where}: problem status {body.get('status')!r} differs")
    return failures


def header(response: requests.Response | schemathesis.Response, name: str) -> str:
    """One header of either kind of response (schemathesis keeps lists, by lower-case name)."""
    value = response.headers.get(name.lower(), "")
    return value[0] if isinstance(value, list) else value


def assert_problem(response: requests.Response, status: int | None = None) -> dict:
    """The answer is problem JSON (with `status` when given); its body."""
    assert not problem_failures(response), problem_failures(response)
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.status_code >= 400, (response.status_code, response.text[:300])
    return response.json()
