"""`kafka_bootstrap`: the Kafka broker of a test session, as a pytest plugin;
`create_topics`, fresh topics on it; and the groups that keep tests sharing
a shop on one pytest-xdist worker.

Loaded for every suite by the repository's top-level conftest.py. Under
`make test` the run's broker is named by KAFKA_BOOTSTRAP_SERVERS and used as
it is; a suite run on its own (`pytest e2e-tests`) starts a broker of its
own, set up the same way (spare ports, the contract's topics), and stops it
at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from polyshop_dev.paths import ROOT
from polyshop_dev.stack import Stack
from polyshop_dev.testrun import start_broker

E2E = ROOT / "e2e-tests"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The broker of the test run (make test starts one), or a broker of our own."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="test-kafka-"))
    try:
        with Stack(folder / "logs") as stack:
            yield start_broker(stack, folder / "data")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def create_topics(kafka_bootstrap: str) -> Callable[..., list[str]]:
    """`create_topics(*names, partitions=1)`: new topics on the test broker,
    returned once each has a leader. A consumer group that joins before the
    broker knows a topic's leader is assigned nothing of it until its next
    metadata refresh, minutes later."""

    def create(*names: str, partitions: int = 1) -> list[str]:
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        try:
            admin.create_topics([NewTopic(name, partitions, 1) for name in names])
            deadline = time.monotonic() + 20
            while not all(_has_leader(t) for t in admin.describe_topics(list(names))):
                assert time.monotonic() < deadline, f"topics {names} have no leader after 20 s"
                time.sleep(0.1)
        finally:
            admin.close()
        return list(names)

    return create


def _has_leader(described: dict) -> bool:
    partitions = described.get("partitions") or []
    return described.get("error_code") == 0 and all(p["leader_id"] >= 0 for p in partitions)


# Before pytest-xdist's own hook, which reads the groups into the test ids.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test` runs pytest on two workers (`-n 2 --dist loadgroup`):
    every end-to-end folder shares one shop (a package fixture), and every
    other module its module fixtures, so each goes to one worker whole and
    its shop starts once. The end-to-end folders, the longest groups, go
    first, so the short ones fill in at the end and both workers finish
    together."""
    for item in items:
        item.add_marker(pytest.mark.xdist_group(share_group(Path(item.path))))
    items.sort(key=lambda item: not Path(item.path).is_relative_to(E2E))


def share_group(path: Path) -> str:
    """The end-to-end folder a test file is in, or else the file itself."""
    if path.is_relative_to(E2E) and len(path.relative_to(E2E).parts) > 1:
        return f"e2e-tests/{path.relative_to(E2E).parts[0]}"
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
