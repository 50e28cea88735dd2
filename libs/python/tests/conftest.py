"""Fixtures of the shared library's tests: contracts, a poll-with-deadline
helper, fake Kafka records, and a real broker for the consumer loop."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from polyshop_common.events import Contracts

CONTRACTS_DIR = Path(__file__).resolve().parents[3] / "contracts"


def _wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.01)


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """Poll a condition until it holds; fail once the deadline passes."""
    return _wait_until


@pytest.fixture(scope="session")
def contracts() -> Contracts:
    return Contracts.load(CONTRACTS_DIR)


@dataclass
class FakeRecord:
    """What kafka-python's ConsumerRecord offers the processing code."""

    value: bytes | None
    key: bytes | None = b"0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10"
    topic: str = "inventory"
    partition: int = 0
    offset: int = 0
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@pytest.fixture
def make_record() -> Callable[..., FakeRecord]:
    return FakeRecord


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The broker of the test run (make test starts one), or a broker of our own."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    from polyshop_dev.pieces import free_port, kafka_piece
    from polyshop_dev.stack import Stack

    folder = Path(tempfile.mkdtemp(prefix="lib-kafka-"))
    with Stack(folder / "logs") as stack:
        port = free_port()
        stack.start(kafka_piece(folder / "data", port, free_port()))
        yield f"127.0.0.1:{port}"
    shutil.rmtree(folder, ignore_errors=True)
