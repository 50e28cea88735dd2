"""Real processes for the gateway's integration tests.

registry (gunicorn subprocess) -> upstreams (small HTTP servers in
subprocesses, registered with the real registry client) -> gateway (the app
in a server thread, discovering through the real client). Every process a
fixture starts is stopped in its teardown, also when the test fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from gateway.app import close_app, create_app
from gateway.config import Config
from gateway.users import Users
from polyshop_common.registry import Discovery, Registration, RegistryApi
from polyshop_dev.pieces import free_port

REPO = Path(__file__).resolve().parents[3]
UPSTREAM_SERVER = Path(__file__).with_name("upstream_server.py")
REGISTRY_TOKEN = "integration-token"
ISSUER = "http://gateway.integration.test"

ROUTES_YAML = """
defaults: {auth: false, timeout_seconds: 3, retries: 1, rate_limit: null, cache_ttl_seconds: 0}
routes:
  - {prefix: /api/echo, service: echo}
  - {prefix: /api/private, service: echo, auth: true}
  - {prefix: /api/cached, service: echo, cache_ttl_seconds: 30}
  - {prefix: /api/limited, service: echo, auth: true, rate_limit: {rate: 0.01, burst: 3}}
  - {prefix: /api/hasty, service: echo, timeout_seconds: 0.3}
  - {prefix: /api/fragile, service: fragile}
  - {prefix: /api/ghost, service: ghost}
  - {prefix: /api/stream, service: streamer}
  - {prefix: /api/orders, service: orders, auth: true}
  - {prefix: /api/payments, service: payments, auth: true}
  - {prefix: /api/notifications, service: notifications, auth: true}
  - {prefix: /, service: storefront, timeout_seconds: 3}
"""


DEMO = Users.demo()


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not true before the deadline: {what}"
        time.sleep(0.02)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# The services these tests' upstreams register as, all with one credential.
UPSTREAM_SERVICES = [
    "echo",
    "fragile",
    "ghost",
    "streamer",
    "orders",
    "payments",
    "notifications",
    "storefront",
    "door-echo",
    "door-stream",
    "door-broken",
]


def credentials_file(folder: Path) -> Path:
    path = folder / "credentials.json"
    entry = {
        "name": "integration",
        "token_sha256": hashlib.sha256(REGISTRY_TOKEN.encode()).hexdigest(),
        "services": UPSTREAM_SERVICES,
    }
    path.write_text(json.dumps({"credentials": [entry]}))
    return path


@pytest.fixture(scope="session")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "REGISTRY_CREDENTIALS_FILE": str(credentials_file(tmp_path_factory.mktemp("secrets"))),
        "REGISTRY_LEASE_TTL_SECONDS": "3",
    }
    log = (tmp_path_factory.mktemp("registry") / "registry.log").open("w")
    process = subprocess.Popen(
        [str(REPO / ".venv/bin/gunicorn"), "-c", "registry/gunicorn.conf.py", "registry.wsgi:app"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url + "/v1/services"), 20, "the registry answers")
        yield url
    finally:
        stop(process)
        log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        # Not yet, also on a timeout: gunicorn's master has bound the port
        # but its worker is still starting, so the connection waits unanswered.
        return False


@dataclass
class Upstream:
    name: str
    port: int
    process: subprocess.Popen
    registration: Registration

    def kill(self) -> None:
        """Die at once, as a crash would; the registration stays (heartbeats go on)."""
        self.process.kill()
        self.process.wait(5)

    def get(self, path: str) -> requests.Response:
        return requests.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)


@pytest.fixture(scope="session")
def upstream_factory(registry_url: str) -> Iterator[Callable[[str, str], Upstream]]:
    started: list[Upstream] = []

    def start(service: str, name: str) -> Upstream:
        process = subprocess.Popen(
            [sys.executable, str(UPSTREAM_SERVER), name], stdout=subprocess.PIPE, text=True
        )
        port = int(process.stdout.readline())
        process.stdout.close()  # the server prints nothing after its port
        api = RegistryApi(registry_url, token=REGISTRY_TOKEN)
        registration = Registration(api, service, "127.0.0.1", port, instance_id=name)
        upstream = Upstream(name, port, process, registration)
        started.append(upstream)
        registration.start()
        assert registration.wait_registered(5), f"{name} registered"
        return upstream

    yield start
    for upstream in started:
        upstream.registration.close()
        stop(upstream.process)


@pytest.fixture(scope="session")
def echo_pair(upstream_factory) -> tuple[Upstream, Upstream]:
    return upstream_factory("echo", "echo-a"), upstream_factory("echo", "echo-b")


@pytest.fixture
def start_upstream(upstream_factory) -> Iterator[Callable[[str, str], Upstream]]:
    """Upstreams for one test only: stopped and deregistered after it."""
    mine: list[Upstream] = []

    def start(service: str, name: str) -> Upstream:
        mine.append(upstream_factory(service, f"{name}-{time.monotonic_ns()}"))
        return mine[-1]

    yield start
    for upstream in mine:
        upstream.registration.close()
        stop(upstream.process)


@dataclass
class Gateway:
    url: str
    app: Flask
    discovery: Discovery

    def wait_for(self, service: str, count: int) -> None:
        wait_until(
            lambda: len(self.discovery.instances(service)) == count,
            what=f"{count} instance(s) of {service} in the gateway's view",
        )

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def token(self, username: str = "alice", password: str = "wonderland") -> str:
        body = {"username": username, "password": password}
        response = requests.post(self.url + "/auth/token", json=body, timeout=5)
        response.raise_for_status()
        return response.json()["access_token"]

    def auth(self, username: str = "alice") -> dict[str, str]:
        password = {"alice": "wonderland", "bob": "builder"}[username]
        return {"Authorization": f"Bearer {self.token(username, password)}"}


@pytest.fixture
def gateway_config(registry_url: str, tmp_path: Path) -> Config:
    routes_file = tmp_path / "routes.yaml"
    routes_file.write_text(ROUTES_YAML)
    return Config(
        port=0,
        registry_url=registry_url,
        issuer=ISSUER,
        users=DEMO,
        routes_file=routes_file,
        breaker_failures=3,
        breaker_cooldown_seconds=1.0,
    )


@pytest.fixture
def unstarted_discovery(registry_url: str) -> Iterator[Discovery]:
    # Short long polls, so watchers of finished tests do not pile up in the registry.
    discovery = Discovery(RegistryApi(registry_url), wait_seconds=2)
    yield discovery
    discovery.close()


@pytest.fixture
def gateway(unstarted_discovery: Discovery, gateway_config: Config) -> Iterator[Gateway]:
    discovery = unstarted_discovery
    discovery.start()
    assert discovery.wait_ready(10), "the gateway's discovery heard from the registry"
    app = create_app(gateway_config, discovery)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Gateway(f"http://127.0.0.1:{server.server_port}", app, discovery)
    finally:
        server.shutdown()
        server.server_close()
        close_app(app)
