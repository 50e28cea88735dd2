"""W3C trace context (`traceparent`) carried from HTTP requests into events.

A request's or a consumed event's traceparent is set as the current one for
the work it starts; the outbox stores it with each event, and the relay puts
it in the Kafka header, so one trace id follows an order through the saga.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_PATTERN = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_current: ContextVar[str | None] = ContextVar("traceparent", default=None)


def is_valid(traceparent: str | None) -> bool:
    match = _PATTERN.match(traceparent or "")
    return bool(match) and set(match.group(1)) != {"0"} and set(match.group(2)) != {"0"}


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child_of(traceparent: str | None) -> str:
    """The same trace with a new span id; a new trace if `traceparent` is unusable."""
    if not is_valid(traceparent):
        return new_traceparent()
    trace_id = traceparent.split("-")[1]
    return f"00-{trace_id}-{secrets.token_hex(8)}-{traceparent.split('-')[3]}"


def current() -> str | None:
    return _current.get()


@contextmanager
def use(traceparent: str | None) -> Iterator[str]:
    """Make a child of `traceparent` the current trace context inside the block."""
    token = _current.set(child_of(traceparent))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
