"""Check what clients send before the store sees it.

Every rule lives here, so a bad registration is refused whole, with a
`400` problem that names each bad field, and nothing half-valid is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlsplit

from polyshop_common.problems import Problem
from registry.hosts import HostPolicy
from registry.models import SERVICE_NAME, Registration

INSTANCE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_URL_LENGTH = 2048
MAX_METADATA_ENTRIES = 32
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 512

Check = Callable[[object], str | None]
Fields = dict[str, tuple[bool, Check]]  # field -> (required, check)


@dataclass(frozen=True)
class Rules:
    """What the settings decide about a registration: its host, its metadata's size."""

    hosts: HostPolicy = field(default_factory=HostPolicy)
    max_metadata_bytes: int = 4096


def parse_service_name(name: str) -> str:
    if not SERVICE_NAME.fullmatch(name):
        message = (
            "must start with a lowercase letter, use only a-z, 0-9 and '-', "
            "and be at most 63 characters"
        )
        raise invalid("Invalid service name", [field_error("service", message)])
    return name


def parse_registration(service: str, body: object, rules: Rules) -> Registration:
    """Turn a registration body into a `Registration`, or raise a 400 problem."""
    if not isinstance(body, dict):
        raise invalid("Invalid registration", [field_error("body", "must be a JSON object")])
    fields = _fields(rules)
    errors = [*_unknown_fields(body, fields), *_field_errors(body, fields)]
    if errors:
        raise invalid("Invalid registration", errors)
    host, port = body["host"], body["port"]
    return Registration(
        instance_id=body.get("instance_id") or f"{service}-{host}-{port}",
        host=host,
        port=port,
        health_url=body.get("health_url"),
        metadata=body.get("metadata") or {},
    )


def field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def invalid(title: str, errors: list[dict[str, str]]) -> Problem:
    detail = "; ".join(f"{error['field']} {error['message']}" for error in errors)
    return Problem(400, title, detail, errors=errors)


def _check_instance_id(value: object) -> str | None:
    if not isinstance(value, str) or not INSTANCE_ID.fullmatch(value):
        return "must be a string of 1 to 128 letters, digits, '.', '_', ':' or '-'"
    return None


def _check_port(value: object) -> str | None:
    # bool is a subclass of int in Python: `true` must not pass for port 1.
    if type(value) is not int or not 1 <= value <= 65535:
        return "must be an integer from 1 to 65535"
    return None


def _check_health_url(value: object, hosts: HostPolicy) -> str | None:
    message = (
        f"must be an http:// or https:// URL of at most {MAX_URL_LENGTH} characters, "
        "without user info"
    )
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        return message
    if any(character.isspace() for character in value):
        return message
    try:
        parts = urlsplit(value)
    except ValueError:
        return message
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return message
    # Whoever checks the instance's health connects there: the host rules apply.
    problem = hosts.check(parts.hostname)
    return f"host {problem}" if problem else None


def _check_metadata(value: object, max_bytes: int) -> str | None:
    if not isinstance(value, dict):
        return "must be a JSON object whose values are strings"
    if len(value) > MAX_METADATA_ENTRIES:
        return f"must have at most {MAX_METADATA_ENTRIES} entries"
    for key, item in value.items():
        if not 1 <= len(key) <= MAX_METADATA_KEY_LENGTH:
            return f"keys must be 1 to {MAX_METADATA_KEY_LENGTH} characters"
        if not isinstance(item, str) or len(item) > MAX_METADATA_VALUE_LENGTH:
            limit = MAX_METADATA_VALUE_LENGTH
            return f"value of {key!r} must be a string of at most {limit} characters"
    # Every instance is held in memory and sent to every watcher: its size counts.
    if len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()) > max_bytes:
        return f"must be at most {max_bytes} bytes as JSON"
    return None


def _fields(rules: Rules) -> Fields:
    """Every field's check; a null optional field counts as absent."""
    return {
        "instance_id": (False, _check_instance_id),
        "host": (True, rules.hosts.check),
        "port": (True, _check_port),
        "health_url": (False, partial(_check_health_url, hosts=rules.hosts)),
        "metadata": (False, partial(_check_metadata, max_bytes=rules.max_metadata_bytes)),
    }


def _unknown_fields(body: dict, fields: Fields) -> Iterator[dict[str, str]]:
    for name in body:
        if name not in fields:
            yield field_error(name, "is not a known field")


def _field_errors(body: dict, fields: Fields) -> Iterator[dict[str, str]]:
    for name, (required, check) in fields.items():
        value = body.get(name)
        if value is None:
            if required:
                yield field_error(name, "is required")
            continue
        message = check(value)
        if message:
            yield field_error(name, message)
