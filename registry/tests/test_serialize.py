"""The shapes of what the registry sends: times as ISO 8601 UTC with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.serialize import iso_time


@pytest.mark.parametrize(
    "seconds", [0.0, 1_750_000_000.0, 1_750_000_000.1234, 1_750_000_000.9999996, 1_750_000_059.999]
)
def test_times_read_as_iso_8601_utc_with_milliseconds(seconds):
    moment = datetime.fromtimestamp(seconds, UTC)
    expected = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    assert iso_time(seconds) == expected
