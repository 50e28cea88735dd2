"""Fixtures of the shared library's tests: fake Kafka records, and the
values the conformance cases of contracts/conformance/ describe.

`contracts`, `wait_until` and `kafka_bootstrap` (a real broker, for the
consumer loop) come from the plugins of the repository's conftest.py.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest


@dataclass
class FakeRecord:
    """What kafka-python's ConsumerRecord offers the processing code."""

    value: bytes | None
    key: bytes | None = b"0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10"
    topic: str = "inventory"
    partition: int = 0
    offset: int = 0
    timestamp: int = 0  # milliseconds since the epoch, when the record was written
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@pytest.fixture
def make_record() -> Callable[..., FakeRecord]:
    return FakeRecord


class ConformanceValues:
    """Record values and events as the cases of contracts/conformance/ write
    them (README.md there; the Node.js runners build them alike)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def value(self, spec: Any) -> bytes | None:
        if spec is None:
            return None
        if "utf8" in spec:
            return spec["utf8"].encode()
        if "base64" in spec:
            return base64.b64decode(spec["base64"])
        if "json" in spec:
            return compact_json(spec["json"])
        if "nested" in spec:
            return b"[" * spec["nested"] + b"]" * spec["nested"]
        if "file" in spec:
            return (self.directory / spec["file"]).read_bytes()
        if "event" in spec:
            return compact_json(self.event(spec))
        raise ValueError(f"not a value of a conformance case: {spec!r}")

    def event(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The valid example of `spec["event"]`, with a fresh id, `time` now
        (or `age_seconds` ago), then the case's `set`, `remove` and `nest`."""
        example = self.directory / "events/examples" / f"{spec['event']}.valid.json"
        event = json.loads(example.read_text())
        when = datetime.now(UTC) - timedelta(seconds=spec.get("age_seconds", 0))
        event["id"] = str(uuid.uuid4())
        event["time"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for pointer, value in spec.get("set", {}).items():
            parent, key = place(event, pointer)
            parent[key] = value
        for pointer in spec.get("remove", []):
            parent, key = place(event, pointer)
            del parent[key]
        for pointer, levels in spec.get("nest", {}).items():
            parent, key = place(event, pointer)
            parent[key] = nested(levels)
        return event


@pytest.fixture(scope="session")
def conformance(contracts) -> ConformanceValues:
    return ConformanceValues(contracts.directory)


def nested(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


def place(document: Any, pointer: str) -> tuple[Any, Any]:
    """The object or array holding what a JSON Pointer names, and its key there."""
    *names, last = pointer.split("/")[1:]
    for name in names:
        document = document[int(name) if isinstance(document, list) else name]
    return document, int(last) if isinstance(document, list) else last


def compact_json(value: Any) -> bytes:
    """As JavaScript's JSON.stringify writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
