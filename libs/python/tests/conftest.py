"""Fixtures of the shared library's tests: fake Kafka records.

`contracts`, `wait_until` and `kafka_bootstrap` (a real broker, for the
consumer loop) come from the plugins of the repository's conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
