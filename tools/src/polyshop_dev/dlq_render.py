"""How `polyshop dlq` shows dead letters: plain text for people, dicts for --json.

A dead letter holds whatever bytes were sent, so every text shown is
escaped first: a control character (a terminal escape sequence) is printed
as `\\x1b`, never sent to the terminal.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from polyshop_common.kafka_io.dead_letters import DeadLetter, Redrive

PREVIEW_BYTES = 400
REASON_WIDTH = 60


def when(timestamp_ms: int) -> str:
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def escape(text: str) -> str:
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def as_text(data: bytes | None) -> str | None:
    return None if data is None else data.decode(errors="backslashreplace")


def short(text: str, width: int = REASON_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(letter: DeadLetter) -> dict[str, Any]:
    """One line of `list --json`."""
    return {
        "id": str(letter.id),
        "time": when(letter.timestamp_ms),
        "topic": letter.origin,
        "group": letter.group,
        "reason": letter.reason,
        "redrive": asdict(letter.redrive) if letter.redrive else None,
    }


def details(letter: DeadLetter) -> dict[str, Any]:
    """`show --json`: the value as JSON when it is JSON, and always its exact bytes."""
    return summary(letter) | {
        "key": as_text(letter.key),
        "headers": [{"name": name, "value": as_text(value)} for name, value in letter.headers],
        "value_json": parsed(letter.value),
        "value_base64": None if letter.value is None else base64.b64encode(letter.value).decode(),
        "value_length": None if letter.value is None else len(letter.value),
    }


def parsed(value: bytes | None) -> Any:
    try:
        return None if value is None else json.loads(value)
    except ValueError:
        return None


def table(letters: list[DeadLetter]) -> str:
    """`list`: one line per dead letter, under a heading."""
    rows = [("DEAD LETTER", "WHEN", "GROUP", "REDRIVEN", "REASON")]
    for letter in letters:
        redriven = f"to {letter.redrive.target}" if letter.redrive else "no"
        reason = escape(short(letter.reason or "-"))
        group = escape(letter.group or "-")
        rows.append((str(letter.id), when(letter.timestamp_ms), group, redriven, reason))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]
        )
        for row in rows
    )


def text(letter: DeadLetter) -> str:
    """`show`: everything about one dead letter."""
    origin = "/".join(
        letter.header(f"dlq-{part}") or "?" for part in ("topic", "partition", "offset")
    )
    lines = [
        f"dead letter  {letter.id}",
        f"when         {when(letter.timestamp_ms)}",
        f"read from    {escape(origin)} by group {escape(letter.group or '?')}",
        f"reason       {escape(letter.reason or '-')}",
        f"redriven     {redrive_text(letter.redrive) if letter.redrive else 'no'}",
        f"key          {escape(as_text(letter.key) or '(none)')}",
        "headers",
        *(f"  {escape(name)}: {escape(as_text(value) or '')}" for name, value in letter.headers),
        *value_text(letter.value),
    ]
    return "\n".join(lines)


def value_text(value: bytes | None) -> list[str]:
    if value is None:
        return ["value        (none)"]
    try:
        pretty = json.dumps(json.loads(value), indent=2, ensure_ascii=False)
    except ValueError:
        cut = f"; the first {PREVIEW_BYTES}" if len(value) > PREVIEW_BYTES else ""
        head = f"value ({len(value)} bytes, not JSON, escaped{cut})"
        return [head, escape(value[:PREVIEW_BYTES].decode(errors="backslashreplace"))]
    return [f"value ({len(value)} bytes, JSON)", *map(escape, pretty.splitlines())]


def redrive_text(redrive: Redrive) -> str:
    return f"to {redrive.target} at {redrive.time}"
