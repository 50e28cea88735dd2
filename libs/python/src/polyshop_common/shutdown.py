"""Leaving cleanly on SIGTERM or SIGINT (what `docker stop` and Ctrl-C send)."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

log = logging.getLogger(__name__)


def exit_on_signals(*closers: Callable[[], None]) -> None:
    """Run `closers` in order once on SIGTERM/SIGINT, then exit with status 0.

    Put the registration first: an instance leaves the registry before it
    stops listening, so no caller is sent to a closed port.
    """

    def handle(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        log.info("stopping on %s", signal.Signals(signum).name)
        for close in closers:
            close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
