"""One shop for every lab, with a trace backend as `make up TRACES=1` has:
each lab's test leaves it as it found it."""

from __future__ import annotations

import pytest

from support.shop import running_shop


@pytest.fixture(scope="package")
def shop(tmp_path_factory):
    with running_shop(tmp_path_factory.mktemp("labs"), traces=True) as started:
        yield started
