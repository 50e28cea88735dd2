"""Long polls, as Consul's blocking queries: `?index=N&wait=S` on a read.

A watcher sends the index of the last answer it saw. The registry holds the
request while its change index still equals N, at most S seconds, then answers
with the current state and its index in `X-Registry-Index`. The watcher sends
that index with its next request, and so never misses a change. A read
without `index` answers at once.

Each waiting watcher holds a connection, so the store lets only so many wait
(REGISTRY_MAX_WATCHES); one more is answered 503 at once, with Retry-After.
Watchers woken by one change share one answer (answers.py).

`?since=N` waits the same way, and then answers only what changed after N
(Store.delta), or 410 when the registry no longer knows: the watcher then
reads the whole list again and watches from its index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from polyshop_common.problems import Problem
from registry.answers import Answer
from registry.context import current_answers, current_settings, current_store
from registry.models import Delta, Snapshot
from registry.store import TooManyWatchers
from registry.validation import field_error, invalid

INDEX = re.compile(r"\d{1,19}")
WAIT = re.compile(r"(\d{1,9}(?:\.\d+)?)s?")
RETRY_AFTER_SECONDS = 2


@dataclass(frozen=True)
class Watch:
    index: int | None  # None: answer at once
    wait_seconds: float


def parse_watch(
    args: Mapping[str, str], max_wait_seconds: float, index_name: str = "index"
) -> Watch:
    """Read `index` (a non-negative integer; or `index_name`) and `wait`
    (seconds, "30" or "30s")."""
    errors = []
    raw_index, raw_wait = args.get(index_name), args.get("wait")
    if raw_index is not None and not INDEX.fullmatch(raw_index):
        errors.append(field_error(index_name, "must be a non-negative integer"))
    wait = max_wait_seconds
    if raw_wait is not None:
        match = WAIT.fullmatch(raw_wait)
        wait = float(match[1]) if match else 0.0
        if not 0 < wait <= max_wait_seconds:
            message = f"must be more than 0 and at most {max_wait_seconds:g} seconds, as 30 or 30s"
            errors.append(field_error("wait", message))
    if errors:
        raise invalid("Invalid watch parameters", errors)
    index = int(raw_index) if raw_index is not None else None
    return Watch(index=index, wait_seconds=wait)


def watched_answer(
    args: Mapping[str, str], service: str | None, render: Callable[[Snapshot], bytes]
) -> Answer:
    """Every service (or one) as `render` shows them, after waiting for a
    change if `args` ask to watch."""
    store = current_store()
    watch = parse_watch(args, current_settings().max_wait_seconds)
    index = store.index if watch.index is None else _waited(watch)

    def build() -> tuple[int, bytes]:
        snapshot = store.snapshot() if service is None else store.service_snapshot(service)
        return snapshot.index, render(snapshot)

    return current_answers().answer(service, index, build, store.renewals)


def watched_delta(args: Mapping[str, str], render: Callable[[Delta], bytes]) -> Answer:
    """What changed after `?since=N`, as `render` shows it, once the index
    has moved past N or the wait has run out."""
    store = current_store()
    watch = parse_watch(args, current_settings().max_wait_seconds, index_name="since")
    since = watch.index
    index = _waited(watch)

    def build() -> tuple[int, bytes]:
        delta = store.delta(since)
        if delta is None:
            raise _changes_not_kept(since)
        return delta.index, render(delta)

    return current_answers().answer(("since", since), index, build, store.renewals)


def _waited(watch: Watch) -> int:
    try:
        return current_store().wait_for_change(watch.index, watch.wait_seconds)
    except TooManyWatchers:
        raise _too_many_watchers() from None


def _changes_not_kept(since: int) -> Problem:
    detail = (
        f"The registry no longer knows what changed after index {since} (it keeps the "
        "latest changes only, and none from before it started): read the whole list "
        "and watch from its index."
    )
    return Problem(410, "Changes not kept", detail)


def _too_many_watchers() -> Problem:
    detail = "As many watchers wait as the registry serves at once: watch again shortly."
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return Problem(503, "Too many watchers", detail, headers=headers)
