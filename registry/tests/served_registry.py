"""The registry as production runs it: gunicorn with registry/gunicorn.conf.py.

`serve` starts it in a subprocess with a credentials file of the tests'
(tokens.py) and settings of the test's own, waits until it answers, and stops
it afterwards. Tests then hold real sockets against it.
"""

from __future__ import annotations

import json
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from polyshop_dev.pieces import free_port, registry_piece
from polyshop_dev.stack import Served, Stack

from .tokens import credentials_document


@dataclass
class ServedRegistry(Served):
    """The registry a test started: its url, a raw connection, its log."""

    stack: Stack | None = None

    def stop(self) -> int | None:
        """SIGTERM, as an orchestrator stops it; its exit code."""
        return self.stack.stop("registry")


@contextmanager
def serve(folder: Path, **settings: str) -> Iterator[ServedRegistry]:
    """The registry with the tests' credentials; `settings` are more variables."""
    credentials_file = folder / "registry-credentials.json"
    credentials_file.write_text(json.dumps(credentials_document()), encoding="utf-8")
    port = free_port()
    env = {
        "HOST": "127.0.0.1",
        "REGISTRY_CREDENTIALS_FILE": str(credentials_file),
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    with Stack(folder) as stack:
        running = stack.start(registry_piece(port, env))
        yield ServedRegistry(port, running.log_path, stack)


def allow_open_files(count: int) -> None:
    """Let this process (and the registry it starts) hold `count` sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < count:
        wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
