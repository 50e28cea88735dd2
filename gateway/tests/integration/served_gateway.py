"""The gateway as production runs it, for tests of its front door.

`serve` starts gunicorn with gateway/gunicorn.conf.py in a
subprocess (its worker, parser limits and timeouts, two workers), with a
signing key and routes of its own, and stops it afterwards. `send` speaks
HTTP/1.1 over a raw socket, for the requests no HTTP library would send.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

from polyshop_common.signing import SigningKey
from polyshop_dev.pieces import free_port, gateway_piece
from polyshop_dev.stack import Served, Stack


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass
class ServedGateway(Served):
    metrics_port: int = 0

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def send(self, raw: bytes, timeout: float = 10) -> Answer:
        """Send bytes as they are; read the answer until the gateway closes."""
        with self.connect(timeout) as connection:
            # Refused before all was sent: its answer may still be there to read.
            with suppress(BrokenPipeError, ConnectionResetError):
                connection.sendall(raw)
            return parse(read_until_closed(connection))


def read_until_closed(connection: socket.socket) -> bytes:
    received = bytearray()
    with suppress(ConnectionResetError):
        while chunk := connection.recv(65536):
            received += chunk
    return bytes(received)


def parse(data: bytes) -> Answer:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1."), f"not an HTTP answer: {data[:200]!r}"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return Answer(int(lines[0].split()[1]), headers, body)


def dechunk(data: bytes) -> bytes:
    body = bytearray()
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(body)
        body += data[:size]
        data = data[size + 2 :]


@contextmanager
def serve(registry_url: str, folder: Path, routes_yaml: str) -> Iterator[ServedGateway]:
    port = free_port()
    (folder / "routes.yaml").write_text(routes_yaml)
    key_file = folder / "signing-key.pem"
    key_file.write_bytes(SigningKey.generate().pem())
    env = {
        "POLYSHOP_MODE": "development",
        "HOST": "127.0.0.1",
        "REGISTRY_URL": registry_url,
        "AUTH_ISSUER": f"http://127.0.0.1:{port}",
        "JWT_SIGNING_KEY_FILE": str(key_file),
        "GATEWAY_ROUTES_FILE": str(folder / "routes.yaml"),
    }
    metrics_port = free_port()
    piece = gateway_piece(port, env, metrics_port)
    with Stack(folder) as stack:
        # Ready when several new connections in a row (so, both workers) say so.
        running = stack.start(replace(piece, ready=ready_in_a_row(piece.ready, 8)))
        yield ServedGateway(port, running.log_path, metrics_port)


def ready_in_a_row(ready: Callable[[], bool], times: int) -> Callable[[], bool]:
    return lambda: all(ready() for _ in range(times))
