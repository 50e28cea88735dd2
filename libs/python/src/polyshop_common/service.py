"""The runtime of a Python service: what runs beside its HTTP handlers.

Registration (and discovery, where the service calls others), Kafka
consumers and outbox relays are threads of the gunicorn worker. They start
in `post_worker_init` (on the first request under Flask's dev server) and
stop in `worker_exit`: the instance leaves the registry FIRST, so no caller
is sent to it while its consumers and relays wind down. Nothing blocks
start-up: while the registry or the broker is away the threads keep trying,
and `/readyz` answers 503 until every part is up.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import Any, Protocol

from flask import Flask, request

from polyshop_common import faults
from polyshop_common.events import Contracts
from polyshop_common.health import EXTENSION, health
from polyshop_common.identity import TokenVerifier, register_identity
from polyshop_common.kafka_io import ConsumerLoop, Handler, Producer
from polyshop_common.logs import configure_logging
from polyshop_common.metrics import serve_metrics, time_requests, watch_outbox
from polyshop_common.outbox import OutboxRelay
from polyshop_common.problems import Problem
from polyshop_common.registry import Discovery, Registration, RegistryApi
from polyshop_common.settings import ServiceSettings, announce_mode
from polyshop_common.telemetry import instrument_app, stop_tracing

log = logging.getLogger(__name__)

# How long an instance keeps serving after it left the registry, on SIGTERM.
DRAIN_SECONDS = 0.5
GIL_SWITCH_SECONDS = 0.001


class Worker(Protocol):
    @property
    def running(self) -> bool: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...


class Runtime:
    def __init__(self, service: str, settings: ServiceSettings, *, discover: bool = False) -> None:
        host, port = settings.advertised_host, settings.port
        self.service, self.instance = service, f"{host}:{port}"
        self.registration = Registration(
            RegistryApi(settings.registry_url, settings.registry_token),
            service,
            host,
            port,
            health_url=f"http://{host}:{port}/readyz",
            metadata={"language": "python"},
        )
        self.discovery = Discovery(RegistryApi(settings.registry_url)) if discover else None
        self._workers: dict[str, Worker] = {}
        self._closers: list[Any] = []
        self._lock = threading.Lock()
        self._started = False

    def add_worker(self, name: str, worker: Worker) -> Worker:
        self._workers[name] = worker
        return worker

    def on_stop(self, close: Any) -> None:
        """Run `close()` last on stop (a producer's flush, say)."""
        self._closers.append(close)

    def start(self) -> None:
        if self._started:  # cheap check first: this runs before every dev-server request
            return
        with self._lock:
            if self._started:
                return
            self._started = True
            faults.watch(self.service, self.instance)
            self.registration.start()
            if self.discovery:
                self.discovery.start()
            for worker in self._workers.values():
                worker.start()
            log.info("runtime started", extra={"workers": list(self._workers)})

    def stop(self) -> None:
        with self._lock:
            if not self._started:
                return
            self._started = False
            self.registration.close()  # leave the registry first
            if self.discovery:
                self.discovery.close()
            for worker in reversed(self._workers.values()):
                worker.stop()
            for close in self._closers:
                close()
            faults.stop()
            log.info("runtime stopped")

    def checks(self) -> dict[str, bool]:
        checks = {"registered": self.registration.registered}
        if self.discovery:
            checks["discovery"] = self.discovery.ready
        checks |= {name: worker.running for name, worker in self._workers.items()}
        return checks


def add_event_workers(
    runtime: Runtime,
    service: str,
    settings: ServiceSettings,
    contracts: Contracts,
    *,
    topics: list[str],
    handlers: dict[str, Handler],
) -> OutboxRelay:
    """An outbox relay and a consumer (group = the service name) sharing one producer.

    The relay starts first and stops last, so events the consumer's last
    handler enqueued still have a chance to go out.
    """
    path = settings.database(service)
    producer = Producer(settings.kafka_bootstrap, service)
    relay = OutboxRelay(path, producer, idle_seconds=0.2)
    watch_outbox(path)
    consumer = ConsumerLoop(
        topics=topics,
        group_id=service,
        handlers=handlers,
        db_path=path,
        bootstrap=settings.kafka_bootstrap,
        contracts=contracts,
        producer=producer,
        retry_delays=settings.consumer_retry_delays,
        on_handled=relay.wake,  # publish what a handler enqueued now, not at the next tick
    )
    runtime.add_worker("outbox_relay", relay)
    runtime.add_worker("consumer", consumer)
    runtime.on_stop(producer.close)
    return relay


def create_flask_app(import_name: str, service: str, settings: ServiceSettings) -> Flask:
    """A service's Flask app, set up as every service's is.

    JSON logs (configured once, and left alone in tests), a server span per
    request (polyshop_common.telemetry), request metrics and `GET /metrics`
    (polyshop_common.metrics), `TESTING` from the settings, JSON
    fields in their documented order, and the verifier of the gateway's
    tokens (it holds public keys only).
    """
    if not settings.testing:
        configure_logging(service, settings.log_level)
    app = Flask(import_name)
    instrument_app(app, service)
    time_requests(app)
    serve_metrics(app)
    app.config["TESTING"] = settings.testing
    app.before_request(inject_faults)
    register_identity(app, TokenVerifier(settings.auth_issuer, service))
    app.json.sort_keys = False  # keep fields in their documented order
    return app


# Probes and metrics keep answering: the switches break the service's work,
# not what shows that it is broken.
UNFAULTED_PATHS = frozenset({"/livez", "/readyz", "/metrics"})


def inject_faults() -> None:
    """The `slow` and `errors` fault switches (polyshop_common.faults)."""
    if request.path in UNFAULTED_PATHS:
        return
    if delay_ms := faults.value(faults.SLOW):
        time.sleep(delay_ms / 1000)
    if faults.on(faults.ERRORS):
        raise Problem(503, "Service Unavailable", "The fault switch 'errors' is on.")


def init_app(app: Flask, runtime: Runtime, settings: ServiceSettings) -> None:
    announce_mode(settings.mode, __name__)
    app.extensions[EXTENSION] = runtime
    app.register_blueprint(health)
    if settings.start_background:
        app.before_request(runtime.start)  # Flask's dev server has no worker hooks


def runtime_of(app: Flask) -> Runtime:
    return app.extensions[EXTENSION]


# gunicorn server hooks: a service's gunicorn.conf.py imports these two names.


def post_worker_init(worker: Any) -> None:
    # A thread waking from I/O (the consumer after a fetch, the relay after an
    # ack) waits for a busy request thread to hand over the GIL, by default up
    # to 5 ms each time; an event crosses several such waits per service.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    runtime = runtime_of(worker.wsgi)
    runtime.start()
    signal.signal(signal.SIGTERM, leave_then_stop(runtime, worker.handle_exit))


def leave_then_stop(runtime: Runtime, stop: Any) -> Any:
    """A SIGTERM handler: leave the registry, keep serving for a moment, then
    let gunicorn stop the worker.

    gunicorn would stop listening first and run `worker_exit` after, so a
    caller that chose this instance just before could be refused. Callers
    learn of the deregistration through their long poll within milliseconds;
    the drain covers requests already on their way.
    """

    def drain(sig: int, frame: Any) -> None:
        runtime.registration.close()
        time.sleep(DRAIN_SECONDS)
        stop(sig, frame)

    def handle(sig: int, frame: Any) -> None:
        threading.Thread(target=drain, args=(sig, frame), name="drain", daemon=True).start()

    return handle


def worker_exit(_server: Any, worker: Any) -> None:
    if isinstance(getattr(worker, "wsgi", None), Flask):
        runtime_of(worker.wsgi).stop()
    stop_tracing()  # after the relay and the consumer: their last spans go out too
