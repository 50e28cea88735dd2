"""`kafka_bootstrap`: the Kafka broker of a test session, as a pytest plugin.

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
from collections.abc import Iterator
from pathlib import Path

import pytest

from polyshop_dev.stack import Stack
from polyshop_dev.testrun import start_broker


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
