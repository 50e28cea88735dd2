"""`make up`: run polyshop on this machine in the foreground.

It says what it starts, waits for each piece to be ready, prints where
things are, and on Ctrl-C (or SIGTERM) stops everything it started. When a
piece fails it names the piece and its log file.

`make up TRACES=1` (`--traces`) starts a Zipkin server first and has every
piece send it its spans (polyshop_dev.zipkin).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from polyshop_dev import kafka, zipkin
from polyshop_dev.paths import RUN
from polyshop_dev.pieces import Ports, kafka_piece
from polyshop_dev.shop import start_shop
from polyshop_dev.stack import Piece, PieceFailed, Running, Stack

LOGS = RUN / "logs"
DEFAULT_REGISTRY_URL = "http://127.0.0.1:8761"
ZIPKIN_PORT = 9411  # Zipkin's own default


def start(stack: Stack, pieces: list[Piece]) -> list[Running]:
    """Launch the pieces at once; say when each is ready, counted from then."""
    for piece in pieces:
        print(f"  starting {piece.name:<13} log: {LOGS / (piece.name + '.log')}", flush=True)
    began = time.monotonic()
    launched = [stack.launch(piece) for piece in pieces]
    for running in launched:
        stack.wait_ready(running)
        print(f"  {running.piece.name:<22} ready in {time.monotonic() - began:.1f} s", flush=True)
    return launched


def start_all(stack: Stack, traces: bool = False) -> dict[str, str]:
    env: dict[str, str] = {}
    found: dict[str, str] = {}
    if traces:
        kafka.java()
        [running] = start(stack, [zipkin.zipkin_piece(ZIPKIN_PORT)])
        env = zipkin.tracing_env(ZIPKIN_PORT)
        found = {"traces (Zipkin)": running.piece.url or ""}
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    broker = None
    if bootstrap:
        print(f"  using the Kafka broker at {bootstrap} (KAFKA_BOOTSTRAP_SERVERS)")
        kafka.ensure_topics(bootstrap)
    else:
        kafka.java()  # no Java: one clear sentence before anything starts
        broker = kafka_piece(RUN / "kafka")
        bootstrap = "127.0.0.1:9092"
    registry = urlsplit(os.environ.get("REGISTRY_URL", DEFAULT_REGISTRY_URL))
    ports = replace(Ports(), registry=registry.port or Ports.registry)
    data_dir = Path(os.environ.get("DATA_DIR", RUN / "data"))
    return start_shop(stack, ports, bootstrap, data_dir, env, start=start, broker=broker) | found


def watch(stack: Stack) -> int:
    while True:
        for running in stack.exited():
            print(f"\n{running.piece.name} stopped unexpectedly; its log is {running.log_path}")
            return 1
        time.sleep(0.5)


def main(argv: list[str]) -> int:
    if argv not in ([], ["--traces"]):
        print("usage: python -m polyshop_dev.up [--traces]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C must stop the stack even when this was started from a script in
    # the background, where the shell hands down SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print("polyshop: starting the local stack (Ctrl-C stops it)", flush=True)
    with Stack(LOGS) as stack:
        try:
            urls = start_all(stack, traces=argv == ["--traces"])
            print("\npolyshop is up:")
            for name, url in urls.items():
                print(f"  {name:<20} {url}")
            print(flush=True)
            return watch(stack)
        except PieceFailed as failure:
            print(f"\n{failure}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nstopping polyshop ...", flush=True)
            return 0
        finally:
            stack.stop_all()
            print("stopped; nothing left running.", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
