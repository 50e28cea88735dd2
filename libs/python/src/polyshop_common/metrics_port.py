"""The summed metrics of a piece with several worker processes, on a port of their own.

A gunicorn master (the gateway's) serves them: it outlives every worker,
and it imports only prometheus-client for it, not Flask or the app
(docs/adr/0010-light-gunicorn-masters.md). Each worker writes its values
to PROMETHEUS_MULTIPROC_DIR (polyshop_common.metrics).
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, multiprocess, start_http_server


def serve_on(host: str, port: int) -> None:
    """Answer GET /metrics on `port`, from a background thread."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, host, registry)


def process_gone(pid: int) -> None:
    """Drop the live gauges of a worker process that exited."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(pid)
