"""The event contracts: CloudEvents envelopes checked against one JSON Schema per type.

The schemas live once, in `contracts/events/`, and the Node.js services read
the same files. `Contracts.load()` reads them at start-up (never at import);
`parse(value)` reads a record's bytes and `validate(event)` checks an event;
both raise `InvalidEvent` with a reason a person can act on, and that reason
is what a dead-lettered message carries, worded alike in both libraries
(contracts/conformance/reading.json). The names of the retry and dead-letter
topics and the time each type stays worth acting on come from the same
folder, so both languages route and expire alike.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from polyshop_common.settings import find_contracts_dir, read_topics

SCHEMA_SUFFIX = ".schema.json"
SPEC_VERSION = "1.0"
# An event is a few levels deep; far deeper is garbage, or an attack on the parser.
MAX_DEPTH = 64


class InvalidEvent(ValueError):
    """The message is not an event this system knows, or breaks its type's schema."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Contracts:
    """The schemas, topics and times to live of contracts/, read once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        topics = read_topics(directory)
        self.dead_letter_suffix: str = topics["dead_letter_suffix"]
        self.retry_suffix: str = topics["retry_suffix"]
        self.retry_levels: int = topics["retry_levels"]
        self.topics: dict[str, list[str]] = topics["topics"]
        expiry = json.loads((directory / "expiry.json").read_text())
        self.time_to_live: dict[str, float] = expiry["time_to_live_seconds"]
        self._schemas = _load_schemas(directory / "events")

    @classmethod
    def load(cls, directory: Path | None = None) -> Contracts:
        found = directory or find_contracts_dir()
        if found is None or not (found / "topics.json").is_file():
            raise FileNotFoundError(
                f"no contracts folder at {found}: set CONTRACTS_DIR to the contracts/ folder"
            )
        return cls(found)

    @property
    def types(self) -> set[str]:
        return set(self._schemas)

    def topic_of(self, event_type: str) -> str:
        for topic, types in self.topics.items():
            if event_type in types:
                return topic
        raise KeyError(f"no topic carries {event_type}")

    def dead_letter_topic(self, topic: str) -> str:
        return topic + self.dead_letter_suffix

    def retry_topic(self, topic: str, level: int) -> str:
        return f"{topic}{self.retry_suffix}{level}"

    def retry_topics(self, topics: Iterable[str], levels: int | None = None) -> list[str]:
        """The retry topics of `topics`, levels 1..`levels` (all of them by default)."""
        count = self.retry_levels if levels is None else levels
        return [self.retry_topic(t, level) for t in topics for level in range(1, count + 1)]

    def origin_of(self, topic: str) -> tuple[str, int]:
        """The topic a record of `topic` was first sent to, and its retry level (0: none)."""
        base, suffix, level = topic.rpartition(self.retry_suffix)
        if suffix and level.isdigit() and 1 <= int(level) <= self.retry_levels:
            return base, int(level)
        return topic, 0

    def ttl_of(self, event_type: str) -> float | None:
        """Seconds an event of this type stays worth acting on; None: forever."""
        return self.time_to_live.get(event_type)

    def expired(self, event: dict[str, Any], now: datetime) -> bool:
        """Is this (valid) event older than its type's time to live?"""
        ttl = self.ttl_of(event["type"])
        if ttl is None:
            return False
        age = now - datetime.fromisoformat(event["time"])
        return age.total_seconds() > ttl

    def validate(self, event: Any) -> None:
        """Return if `event` is valid; raise InvalidEvent saying why not."""
        if not isinstance(event, dict):
            raise InvalidEvent("an event must be a JSON object")
        event_type = event.get("type")
        schema = self._schemas.get(event_type) if isinstance(event_type, str) else None
        if schema is None:
            raise InvalidEvent(f"unknown event type {_json(event_type)}")
        if not schema.check.is_valid(event):
            where, message = schema.why_not(event)
            raise InvalidEvent(f"{event_type}: {where}: {message}")
        # The schema checks the form of `time`; a 30th of February has that form too.
        if not _real_time(event["time"]):
            raise InvalidEvent(f"{event_type}: /time: not a real date and time")

    def parse(self, value: bytes | None) -> dict[str, Any]:
        """The valid event in a record's bytes; InvalidEvent saying why there is none."""
        if not value:
            raise InvalidEvent("empty message")
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidEvent(f"not UTF-8: {error}") from None
        try:
            event = json.loads(text, parse_constant=_not_json)
        except RecursionError:
            raise InvalidEvent(f"nested too deep: more than {MAX_DEPTH} levels") from None
        except ValueError as error:
            raise InvalidEvent(f"not JSON: {error}") from None
        if depth(event) > MAX_DEPTH:
            raise InvalidEvent(f"nested too deep: more than {MAX_DEPTH} levels")
        self.validate(event)
        return event


def depth(value: Any) -> int:
    """How many arrays and objects deep `value` is (a scalar: 0), counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


def new_event(event_type: str, source: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    """A CloudEvents 1.0 envelope with a fresh id and the current UTC time."""
    return {
        "specversion": SPEC_VERSION,
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "subject": subject,
        "time": utc_now(),
        "datacontenttype": "application/json",
        "data": data,
    }


def utc_now() -> str:
    """RFC 3339 UTC time with milliseconds and a Z: 2026-11-27T10:15:00.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(value: Any) -> str:
    """`value` as JSON text, as JavaScript's JSON.stringify writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _real_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _not_json(name: str) -> None:
    # Python reads NaN and Infinity; JSON (and JavaScript's JSON.parse) does not.
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True)
class _Schema:
    """One type's schema, twice: compiled (jsonschema-rs) for the check every
    event pays, and jsonschema's for the words of the rare refusal, so a
    dead letter's reason reads as it always has, and as the Node library's."""

    check: jsonschema_rs.Validator
    explain: Draft202012Validator

    def why_not(self, event: Any) -> tuple[str, str]:
        """Where an invalid event breaks the schema, and how."""
        error = best_match(self.explain.iter_errors(event))
        if error is not None:
            return _pointer(error.absolute_path), error.message
        # The two validators disagree: say what the one that refused said.
        first = next(iter(self.check.iter_errors(event)))
        return _pointer(first.instance_path), first.message


def _pointer(path: Iterable[str | int]) -> str:
    return "".join(f"/{part}" for part in path) or "/"


def _load_schemas(folder: Path) -> dict[str, _Schema]:
    schemas = [json.loads(path.read_text()) for path in sorted(folder.glob("*" + SCHEMA_SUFFIX))]
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )
    compiled = jsonschema_rs.Registry([(schema["$id"], schema) for schema in schemas])
    found = {}
    for schema in schemas:
        event_type = schema.get("properties", {}).get("type", {}).get("const")
        if event_type:  # the envelope and the shared defs have no type of their own
            Draft202012Validator.check_schema(schema)
            found[event_type] = _Schema(
                check=jsonschema_rs.validator_for(
                    schema, registry=compiled, validate_formats=False
                ),
                explain=Draft202012Validator(schema, registry=registry),
            )
    return found
