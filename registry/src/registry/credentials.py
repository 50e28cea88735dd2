"""Who may write to the registry: one credential per piece, read from a file.

REGISTRY_CREDENTIALS_FILE names a JSON file:

    {"credentials": [
        {"name": "orders", "token_sha256": "<hex>", "services": ["orders"]}
    ]}

The registry keeps only SHA-256 digests of the tokens, so the file reveals
none of them. A presented token is hashed and compared in constant time
with every digest. A credential registers instances of the services it
lists and no others; the instances it registers are its own (see store.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from pathlib import Path

from registry.models import SERVICE_NAME

SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
FIELDS = {"name", "token_sha256", "services"}


@dataclass(frozen=True)
class Credential:
    name: str
    token_sha256: str  # lowercase hex
    services: frozenset[str]

    def may_write(self, service: str) -> bool:
        return service in self.services


@dataclass(frozen=True)
class Credentials:
    entries: tuple[Credential, ...] = ()

    def find(self, token: str) -> Credential | None:
        """The credential whose token this is, or None."""
        digest = token_digest(token)
        found = None
        for credential in self.entries:  # no early exit: every digest is compared
            if hmac.compare_digest(digest, credential.token_sha256):
                found = credential
        return found


def token_digest(token: str) -> str:
    # hashlib, not polyshop_common.signing's same function: that module would
    # load a JWT and crypto stack into a process that needs neither.
    return hashlib.sha256(token.encode()).hexdigest()


def load(raw_path: str) -> Credentials:
    """Read and check a credentials file; a ValueError says what is wrong."""
    try:
        text = Path(raw_path).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read the file ({error.strerror})") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise ValueError("the file is not valid JSON") from None
    return parse(document)


def parse(document: object) -> Credentials:
    if not isinstance(document, dict) or not isinstance(document.get("credentials"), list):
        raise ValueError('expected a JSON object {"credentials": [...]}')
    entries = tuple(
        _credential(number, entry) for number, entry in enumerate(document["credentials"])
    )
    if not entries:
        raise ValueError("the file lists no credentials: nothing could register")
    _check_unique([entry.name for entry in entries], "name")
    _check_unique([entry.token_sha256 for entry in entries], "token_sha256")
    return Credentials(entries)


def _credential(number: int, entry: object) -> Credential:
    where = f"credentials[{number}]"
    if not isinstance(entry, dict) or set(entry) != FIELDS:
        raise ValueError(f"{where} must have exactly the fields {', '.join(sorted(FIELDS))}")
    name, digest, services = entry["name"], entry["token_sha256"], entry["services"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}.name must be a non-empty string")
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        raise ValueError(f"{where}.token_sha256 must be 64 hexadecimal digits")
    if not isinstance(services, list) or not services:
        raise ValueError(f"{where}.services must be a non-empty list of service names")
    for service in services:
        if not isinstance(service, str) or not SERVICE_NAME.fullmatch(service):
            raise ValueError(f"{where}.services holds {service!r}, not a service name")
    return Credential(name=name, token_sha256=digest.lower(), services=frozenset(services))


def _check_unique(values: list[str], field: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"two credentials have the same {field}")
