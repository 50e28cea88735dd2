"""Fault switches: faults a teacher turns on and off while the shop runs.

Each switch is an OpenFeature flag in one flagd flag file that every piece
watches (`FAULTS_FILE`; unset, every switch stays off), read by flagd's
in-process provider, as the OpenTelemetry demo does with flagd. The flags
are evaluated for this piece (`service`, `instance`) once each time the
file changes, not on every request: the hot paths only read a dict.

A switch that turns on or off is logged, and those on are listed in the
piece's `/readyz`. The switches and what each does: contracts/faults.json;
their symptoms and where to see them: docs/faults.md; the CLI that writes
the file: tools/src/polyshop_dev/faults.py (`make fault`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.provider import ProviderStatus

from polyshop_common.settings import find_contracts_dir

log = logging.getLogger(__name__)

SLOW = "slow"
ERRORS = "errors"
DECLINE_PAYMENTS = "decline-payments"
STOP_HEARTBEATS = "stop-heartbeats"
PAUSE_CONSUMER = "pause-consumer"
STOP_OUTBOX_RELAY = "stop-outbox-relay"
DUPLICATE_EVENTS = "duplicate-events"
MALFORMED_PRICE = "malformed-price"

# The file was read, or read again after a change.
_EVENTS = (ProviderEvent.PROVIDER_READY, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
# How often the provider looks at the file's modification time.
POLL_MS = 500

_active: dict[str, Any] = {}
_listeners: list[Callable[[dict[str, Any]], None]] = []
_handlers: list[Callable[[EventDetails], None]] = []
_lock = threading.Lock()
_read = threading.Event()  # the file was read and evaluated at least once


def on(name: str) -> bool:
    return name in _active


def value(name: str, default: Any = None) -> Any:
    return _active.get(name, default)


def active() -> dict[str, Any]:
    """The switches on for this piece, with their values."""
    return dict(_active)


def on_change(listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
    """Call `listener(active())` after each change; returns what removes it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def switches(contracts_dir: Path | None = None) -> dict[str, Any]:
    """contracts/faults.json's switches, by name."""
    folder = contracts_dir or find_contracts_dir() or Path(os.environ.get("CONTRACTS_DIR", "."))
    return json.loads((folder / "faults.json").read_text())["switches"]


def watch(service: str, instance: str | None = None, path: str | None = None) -> bool:
    """Follow the flag file (`path`, else FAULTS_FILE) as `service`; False if there is none.

    `instance` is the address the piece registers (host:port), for a switch
    aimed at one instance.
    """
    path = path or os.environ.get("FAULTS_FILE")
    if not path:
        return False
    if _handlers:
        return True  # one process, one piece: already watching
    # Imported here: a piece without the file never loads the provider's gRPC parts.
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType

    known = switches()
    instance = instance or f"{socket.gethostname()}:{os.getpid()}"
    context = EvaluationContext(attributes={"service": service, "instance": instance})

    def evaluate(_details: EventDetails | None = None) -> None:
        # The provider says the file changed while it reads it, before it is ready.
        if api.get_client().get_provider_status() is not ProviderStatus.READY:
            return
        _update(_evaluate(known, context))
        _read.set()

    for event in _EVENTS:
        api.add_handler(event, evaluate)
    _handlers.append(evaluate)
    provider = FlagdProvider(
        resolver_type=ResolverType.FILE, offline_flag_source_path=path, deadline_ms=POLL_MS
    )
    try:
        api.set_provider_and_wait(provider)
    except Exception as error:  # whatever the provider raises, the piece runs on
        # Every switch off until the file can be read; the provider keeps looking.
        log.warning("fault switches not readable yet, all off: %s", error, extra={"file": path})
    log.info("watching the fault switches", extra={"file": path})
    return True


def wait_read(timeout: float) -> bool:
    """True once the file has been read (tests: before that, every switch is off)."""
    return _read.wait(timeout)


def stop() -> None:
    """Stop following the file; every switch is off again."""
    while _handlers:
        handler = _handlers.pop()
        for event in _EVENTS:
            api.remove_handler(event, handler)
    api.shutdown()
    _read.clear()
    _update({})


def _evaluate(known: dict[str, Any], context: EvaluationContext) -> dict[str, Any]:
    client = api.get_client()
    found: dict[str, Any] = {}
    for name, switch in known.items():
        if isinstance(switch["on"], bool):
            result: Any = client.get_boolean_value(name, False, context)
        else:
            result = client.get_integer_value(name, 0, context)
        if result:
            found[name] = result
    return found


def _update(now: dict[str, Any]) -> None:
    global _active
    with _lock:
        before, _active = _active, now
    if before == now:
        return
    for name in sorted(name for name in now if now[name] != before.get(name)):
        log.warning("FAULT SWITCH ON: %s", name, extra={"fault": name, "value": now[name]})
    for name in sorted(before.keys() - now.keys()):
        log.warning("fault switch off: %s", name, extra={"fault": name})
    for listener in _listeners:
        listener(active())
