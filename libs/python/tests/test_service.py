import signal
import threading
from pathlib import Path

import pytest
from flask import Flask

from polyshop_common import flask_db, service
from polyshop_common.problems import register_problem_handlers
from polyshop_common.settings import ConfigError, EnvReader, ServiceSettings, bind_address
from polyshop_common.testing import DEVELOPMENT_ENV


class Recorder:
    """Stands in for the registration and the workers; notes what happens when."""

    def __init__(self, name, log):
        self.name, self.log, self.running, self.registered = name, log, False, False

    def start(self):
        self.log.append(f"start {self.name}")
        self.running = self.registered = True

    def stop(self):
        self.log.append(f"stop {self.name}")
        self.running = False

    close = stop


@pytest.fixture
def log():
    return []


@pytest.fixture
def runtime(log):
    runtime = service.Runtime("demo", ServiceSettings(port=5999))
    runtime.registration = Recorder("registration", log)
    runtime.add_worker("relay", Recorder("relay", log))
    runtime.add_worker("consumer", Recorder("consumer", log))
    return runtime


def test_stopping_deregisters_first_then_stops_workers_in_reverse(runtime, log):
    runtime.start()
    runtime.start()  # a second start changes nothing
    runtime.stop()
    assert log == [
        "start registration",
        "start relay",
        "start consumer",
        "stop registration",
        "stop consumer",
        "stop relay",
    ]


@pytest.fixture
def client(runtime, tmp_path):
    app = Flask(__name__)
    register_problem_handlers(app)
    flask_db.init_app(app, tmp_path / "demo.db", [])
    service.init_app(app, runtime, ServiceSettings(port=5999, start_background=False))
    return app.test_client()


def test_readyz_is_503_until_every_part_runs(client, runtime):
    assert client.get("/readyz").status_code == 503
    runtime.start()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {
        "database": True,
        "registered": True,
        "relay": True,
        "consumer": True,
    }


def test_livez_always_answers(client):
    assert client.get("/livez").json == {"status": "ok"}


def test_gunicorn_hooks_start_and_stop_the_runtime_of_the_worker_app(runtime, log, tmp_path):
    app = Flask(__name__)
    service.init_app(app, runtime, ServiceSettings(port=5999, start_background=False))
    worker = type("Worker", (), {"wsgi": app, "handle_exit": lambda *_: None})()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        service.post_worker_init(worker)
    finally:
        signal.signal(signal.SIGTERM, previous)
    service.worker_exit(None, worker)
    assert log[0] == "start registration" and log[3] == "stop registration"


def test_on_sigterm_an_instance_leaves_the_registry_before_gunicorn_stops_it(monkeypatch):
    events = []
    stopped = threading.Event()
    runtime = type("Runtime", (), {})()
    runtime.registration = type("Registration", (), {"close": lambda _: events.append("left")})()
    monkeypatch.setattr(service, "DRAIN_SECONDS", 0.05)

    def gunicorn_stop(*_):
        events.append("stopped")
        stopped.set()

    service.leave_then_stop(runtime, gunicorn_stop)(signal.SIGTERM, None)

    assert stopped.wait(5)
    assert events == ["left", "stopped"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [({"PORT": "0"}, "PORT"), ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"), ({"REGISTRY_URL": "x"}, "REG")],
)
def test_a_bad_variable_stops_start_up_naming_it(environ, message):
    with pytest.raises(ConfigError, match=message):
        ServiceSettings.common_from_env(EnvReader(DEVELOPMENT_ENV | environ), 5000)


def test_unset_variables_keep_their_defaults():
    common = ServiceSettings.common_from_env(EnvReader(DEVELOPMENT_ENV), 5000)
    assert common["port"] == 5000
    assert common["data_dir"] == Path(".run/data")
    assert common["contracts_dir"].name == "contracts"


def test_bind_address_brackets_ipv6():
    assert bind_address("::1", 80) == "[::1]:80"
    assert bind_address("127.0.0.1", 80) == "127.0.0.1:80"
