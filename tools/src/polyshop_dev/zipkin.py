"""Zipkin, the trace backend `make up TRACES=1` and the trace tests start:
the official server's executable jar from Maven Central, in-memory storage,
on loopback only. No Docker: a JVM is already here for Kafka.

    python -m polyshop_dev.zipkin fetch    # once; `make setup` does it

The services send it their spans when OTEL_TRACES_EXPORTER=zipkin and
OTEL_EXPORTER_ZIPKIN_ENDPOINT point at it (`tracing_env`). Its UI is at
/zipkin/, one trace at /zipkin/traces/{trace id}; its query API at
/api/v2/trace/{trace id} is what the tests read.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from polyshop_dev.paths import CACHE
from polyshop_dev.stack import Piece, http_ok

VERSION = "3.6.1"
ARTIFACT = f"io.zipkin:zipkin-server:{VERSION}:jar:exec"
HEAP = "-Xmx256m"  # in-memory storage keeps at most MEM_MAX_SPANS spans
MAX_SPANS = "200000"
# How often the services' batch span processors send (the SDK's default is
# 5 s): a trace shows up in the UI while the order is still on the screen.
EXPORT_DELAY_MS = "500"


def jar() -> Path:
    return CACHE / "zipkin" / f"zipkin-server-{VERSION}-exec.jar"


def ensure_jar() -> Path:
    """The server's jar, copied from Maven Central on the first call."""
    path = jar()
    if path.exists():
        return path
    if shutil.which("mvn") is None:
        raise RuntimeError("Maven (mvn) is needed once, to fetch the Zipkin server's jar")
    print(f"Fetching the Zipkin server {VERSION} (first run only) into {path.parent}", flush=True)
    subprocess.run(
        [
            "mvn",
            "-B",
            "--no-transfer-progress",
            "dependency:copy",
            f"-Dartifact={ARTIFACT}",
            f"-DoutputDirectory={path.parent}",
        ],
        check=True,
    )
    return path


def zipkin_piece(port: int = 9411) -> Piece:
    listen = "--armeria.ports[0]"
    return Piece(
        name="zipkin",
        command=[
            "java",
            HEAP,
            "-jar",
            str(ensure_jar()),
            # Zipkin listens on every interface unless told otherwise.
            f"{listen}.port={port}",
            f"{listen}.ip=127.0.0.1",
            f"{listen}.protocols[0]=http",
        ],
        ready=http_ok(f"http://127.0.0.1:{port}/health"),
        env={"STORAGE_TYPE": "mem", "MEM_MAX_SPANS": MAX_SPANS},
        url=f"http://127.0.0.1:{port}/zipkin/",
        start_timeout=90,
    )


def tracing_env(port: int) -> dict[str, str]:
    """What the pieces need to send their spans to this Zipkin, and the
    storefront to link each order to its trace there."""
    return {
        "OTEL_TRACES_EXPORTER": "zipkin",
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"http://127.0.0.1:{port}/api/v2/spans",
        "OTEL_BSP_SCHEDULE_DELAY": EXPORT_DELAY_MS,
        "TRACE_VIEW_URL": f"http://127.0.0.1:{port}/zipkin/traces/{{trace_id}}",
    }


def main(argv: list[str]) -> int:
    if argv != ["fetch"]:
        print("usage: python -m polyshop_dev.zipkin fetch", file=sys.stderr)
        return 2
    print(ensure_jar())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
