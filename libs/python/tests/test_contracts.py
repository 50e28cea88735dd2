"""Every example in contracts/events/examples: valid ones pass, invalid ones fail."""

import json
from pathlib import Path

import pytest

from polyshop_common.events import InvalidEvent

EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "events" / "examples"


def examples(kind: str) -> list[Path]:
    return sorted(EXAMPLES.glob(f"*.{kind}.json"))


@pytest.mark.parametrize("path", examples("valid"), ids=lambda p: p.name)
def test_valid_example_passes(contracts, path):
    contracts.validate(json.loads(path.read_text()))


@pytest.mark.parametrize("path", examples("invalid"), ids=lambda p: p.name)
def test_invalid_example_fails(contracts, path):
    with pytest.raises(InvalidEvent):
        contracts.validate(json.loads(path.read_text()))


def test_every_type_has_a_valid_and_an_invalid_example(contracts):
    for event_type in contracts.types:
        assert (EXAMPLES / f"{event_type}.valid.json").is_file(), event_type
        assert (EXAMPLES / f"{event_type}.invalid.json").is_file(), event_type


def test_every_type_travels_on_exactly_one_topic(contracts):
    listed = [t for types in contracts.topics.values() for t in types]
    assert sorted(listed) == sorted(contracts.types)
