"""The registry-client cases of contracts/conformance/ (heartbeat, re-register
on 404, the watch's index), run against this library's client over HTTP; the
Node.js library runs the same file (libs/node/test/unit/conformance.test.js)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from polyshop_common.backoff import Backoff
from polyshop_common.registry import Discovery, Registration, RegistryApi
from polyshop_common.testing import conformance_cases


class ScriptedRegistry:
    """Answers requests from a case's script, in order, and records them.
    After the script: a heartbeat gets 200, a DELETE 204, a GET waits for `stop`."""

    def __init__(self, exchanges: list[dict[str, Any]]) -> None:
        self.script = list(exchanges)
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def done(self) -> bool:
        return not self.script

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def answer(self, request: dict[str, Any]) -> tuple[int, dict[str, Any] | None, int | None]:
        with self._lock:
            self.requests.append(request)
            if self.script:
                step = self.script.pop(0)
                return step["status"], step.get("answer"), step.get("index")
        if request["request"].startswith("GET "):
            self.stopping.wait()
            return 503, {"title": "Service Unavailable", "status": 503}, None
        return (204, None, None) if request["request"].startswith("DELETE ") else (200, {}, None)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer, index = registry.answer(
                    {
                        "request": f"{self.command} {self.path}",
                        "body": json.loads(body) if body else None,
                        "authorization": self.headers.get("Authorization"),
                        "at": time.monotonic(),
                    }
                )
                self.send_response(status)
                if index is not None:
                    self.send_header("X-Registry-Index", str(index))
                payload = b"" if answer is None else json.dumps(answer).encode()
                kind = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_any

            def log_message(self, *args: Any) -> None:
                pass  # the test reads `requests`, not a log

        return Handler


@pytest.fixture
def scripted():
    """Start a scripted registry for a case; stopped after the test."""
    started: list[ScriptedRegistry] = []

    def start(case: dict[str, Any]) -> ScriptedRegistry:
        registry = ScriptedRegistry(case["exchanges"])
        registry.start()
        started.append(registry)
        return registry

    yield start
    for registry in started:
        registry.stop()


def assert_sent_as_scripted(registry: ScriptedRegistry, case: dict[str, Any]) -> None:
    sent = registry.requests[: len(case["exchanges"])]
    assert [r["request"] for r in sent] == [e["request"] for e in case["exchanges"]]
    for request, exchange in zip(sent, case["exchanges"], strict=True):
        for checked in ("body", "authorization"):
            if checked in exchange:
                assert request[checked] == exchange[checked], exchange["request"]


def cases_of(client: str) -> list[Any]:
    return [
        pytest.param(case, id=case["name"])
        for case in conformance_cases("registry-client")
        if case["client"] == client
    ]


@pytest.mark.parametrize("case", cases_of("registration"))
def test_registration_sends_what_the_script_expects(case, scripted, wait_until):
    registry = scripted(case)
    api = RegistryApi(registry.url, token=case.get("token"), timeout=2)
    registration = Registration(
        api,
        case["service"],
        case["host"],
        case["port"],
        instance_id=case["instance_id"],
        backoff=Backoff(initial=0.05, maximum=0.1),
    )
    registration.start()
    try:
        with contextlib.suppress(AssertionError):  # what was sent says more
            wait_until(lambda: registry.done)
    finally:
        registration.close()
    assert_sent_as_scripted(registry, case)
    assert registry.requests[-1]["request"] == case["leaves"]
    if "heartbeat_seconds" in case:
        beats = [r["at"] for r in registry.requests if r["request"].endswith("/heartbeat")]
        assert beats[1] - beats[0] >= case["heartbeat_seconds"] / 2


@pytest.mark.parametrize("case", cases_of("discovery"))
def test_discovery_watches_as_the_script_expects(case, scripted, wait_until):
    registry = scripted(case)
    discovery = Discovery(
        RegistryApi(registry.url, timeout=2),
        wait_seconds=case["wait_seconds"],
        rejoin_grace_seconds=case["rejoin_grace_seconds"],
    )
    discovery.start()
    try:
        with contextlib.suppress(AssertionError):  # what was sent says more
            wait_until(lambda: registry.done and ports(discovery) == case["instances"])
    finally:
        discovery.close()
    assert_sent_as_scripted(registry, case)
    assert ports(discovery) == case["instances"]


def ports(discovery: Discovery) -> dict[str, list[int]]:
    return {name: [i["port"] for i in found] for name, found in discovery.services().items()}
