"""The pieces of polyshop as the local stack runs them: command, readiness
probe, environment. `make up` and the end-to-end tests both use these."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from polyshop_dev import kafka
from polyshop_dev.paths import ROOT
from polyshop_dev.stack import Piece, http_ok

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kafka_piece(data_dir: Path, port: int = 9092, controller_port: int = 9093) -> Piece:
    bootstrap = f"127.0.0.1:{port}"
    return Piece(
        name="kafka",
        command=kafka.prepare(data_dir, port, controller_port),
        ready=lambda: kafka.is_ready(bootstrap),
        url=bootstrap,
        start_timeout=90,
    )


def gunicorn_piece(name: str, module: str, port: int, env: dict[str, str]) -> Piece:
    """A Flask piece served by gunicorn with the settings file in its folder."""
    return Piece(
        name=name,
        command=[
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / name / "gunicorn.conf.py"),
            f"{module}.wsgi:app",
        ],
        ready=http_ok(f"http://127.0.0.1:{port}/readyz"),
        env={"PORT": str(port), **env},
        url=f"http://127.0.0.1:{port}/",
    )


def registry_piece(port: int = 8761, env: dict[str, str] | None = None) -> Piece:
    return gunicorn_piece("registry", "registry", port, env or {})
