import socket
import threading

import pytest
from flask import Flask, request
from werkzeug.serving import make_server

from polyshop_common.http_client import ServiceClient, ServiceUnavailable


class FakeDiscovery:
    def __init__(self, instances):
        self._instances = instances

    def instances(self, service):
        return list(self._instances.get(service, []))


@pytest.fixture
def serve():
    """Start small catalog instances on port 0; each answers with its name."""
    servers = []

    def start(name):
        app = Flask(name)

        @app.get("/whoami")
        def whoami():
            return {"name": name, "auth": request.headers.get("Authorization")}

        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return {"host": "127.0.0.1", "port": server.server_port, "instance_id": name}

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def closed_port_instance():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {"host": "127.0.0.1", "port": port, "instance_id": "gone"}


@pytest.fixture
def broken_instance():
    """Answers every request with half a body, then closes the connection."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_badly():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"name": ')

    threading.Thread(target=answer_badly, daemon=True).start()
    yield {"host": "127.0.0.1", "port": listener.getsockname()[1], "instance_id": "broken"}
    listener.close()


def test_requests_take_turns_over_the_instances(serve):
    discovery = FakeDiscovery({"catalog": [serve("a"), serve("b")]})
    client = ServiceClient(discovery, "catalog")
    names = [client.get("/whoami").json()["name"] for _ in range(4)]
    assert names == ["a", "b", "a", "b"]


def test_when_an_instance_refuses_the_connection_then_another_answers(serve, closed_port_instance):
    discovery = FakeDiscovery({"catalog": [closed_port_instance, serve("b")]})
    client = ServiceClient(discovery, "catalog")
    assert client.get("/whoami").json()["name"] == "b"


def test_when_no_instance_is_known_then_service_unavailable():
    with pytest.raises(ServiceUnavailable):
        ServiceClient(FakeDiscovery({}), "catalog").get("/whoami")


def test_when_no_instance_answers_then_service_unavailable(closed_port_instance):
    client = ServiceClient(FakeDiscovery({"catalog": [closed_port_instance]}), "catalog")
    with pytest.raises(ServiceUnavailable):
        client.get("/whoami")


def test_a_token_factory_signs_each_call(serve):
    client = ServiceClient(
        FakeDiscovery({"orders": [serve("a")]}), "orders", token=lambda: "service-jwt"
    )
    assert client.get("/whoami").json()["auth"] == "Bearer service-jwt"


def test_when_an_answer_is_broken_off_then_another_instance_answers(serve, broken_instance):
    client = ServiceClient(FakeDiscovery({"catalog": [broken_instance, serve("b")]}), "catalog")
    assert client.get("/whoami").json()["name"] == "b"
