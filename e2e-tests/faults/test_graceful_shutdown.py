"""SIGTERM to one of two instances under load: no request fails, and the
instance leaves the registry before it stops listening."""

from __future__ import annotations

import signal
import socket
import threading
import time

import pytest

from support import poll
from support.faults import LEASE_TTL, log_time, read_json_lines
from support.load import Load, Mix

STOPPED = ("orders-2", "inventory-2")  # one Python, one Node.js instance
RESOLUTION = 0.005  # seconds: the port probe's interval, and a log time's truncation
LEFT = ("instance deregistered", "instance evicted")


# Why this needs a test: a gunicorn worker closes its listening socket when
# its loop ends and runs worker_exit only after that, so a deregistration
# there comes too late; both runtimes leave from their SIGTERM handler.
class PortWatch:
    """Probes, every few milliseconds, whether the instance's port still
    accepts connections, and notes (wall clock) when it first refuses."""

    def __init__(self, shop, name: str) -> None:
        self.port = int(shop.pieces[name].env["PORT"])
        self.refused_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe)

    def __enter__(self) -> PortWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _probe(self) -> None:
        # One last probe after the stop: the process has exited by then, and
        # a port closed in the last 2 ms must not go unseen.
        while self.refused_at is None:
            stopped = self._stop.wait(0.002)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            # Reset: the listening socket closed while this connection waited
            # in its queue. The same moment as a refusal, seen from the queue.
            except (ConnectionRefusedError, ConnectionResetError):
                self.refused_at = time.time()
            if stopped:
                return


def how_it_left(shop, instance_id: str, since: float) -> dict:
    """The registry's own log line saying how the instance left: deregistered
    by itself, or evicted once its lease ran out (which is not leaving first)."""

    def line() -> dict | None:
        return next(
            (
                line
                for line in read_json_lines(shop.stack.log_dir / "registry.log")
                if line.get("instance_id") == instance_id
                and line.get("message", "").startswith(LEFT)
                and log_time(line) >= since - RESOLUTION
            ),
            None,
        )

    return poll(line, LEASE_TTL + 5, interval=0.1, what=f"the registry saw {instance_id} leave")


@pytest.mark.parametrize("name", STOPPED)
def test_a_gracefully_stopped_instance_fails_no_request_and_leaves_first(shop, name):
    mix = Mix(reads=("/api/stock/TEA-EARL-GREY", "/api/orders/{order}"), order_every=3)
    plain = Mix(mix.reads, order_every=3, keyed=False)  # orders without a key too
    instance_id = shop.instance_id(name)
    with (
        Load(shop.gateway, mix, threads=2, max_seconds=60) as load,
        Load(shop.gateway, plain, threads=2, max_seconds=60) as unkeyed,
    ):
        load.wait_for(30, timeout=20)
        stopped_at = time.time()
        with PortWatch(shop, name) as watch:
            shop.stop(name, sig=signal.SIGTERM)
        load.wait_for(30, timeout=20)
        shop.start(name)
        load.wait_for(20, timeout=20)
    shop.remember(load)
    shop.remember(unkeyed)

    assert load.failures() + unkeyed.failures() == []
    assert watch.refused_at is not None, "the port never refused a connection"
    left = how_it_left(shop, instance_id, stopped_at)
    assert left["message"] == "instance deregistered", left
    # The registry logged the DELETE before answering it; the instance waits
    # for that answer (and drains) before it closes its port.
    assert log_time(left) < watch.refused_at + RESOLUTION, watch.refused_at - log_time(left)
