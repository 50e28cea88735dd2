"""A small real HTTP upstream for the gateway's integration tests.

Run as `python upstream_server.py NAME`: it listens on a free loopback port,
prints that port on its first line, and serves until it is killed. Every
answer says which instance (NAME) gave it, so tests can see the balancing.

The test helpers answer below any first segment (the gateway sends
/api/echo/slow as /echo/slow):

    /*/slow?seconds=S     answers after S seconds
    /*/events             server-sent events: one now, one after /*/events/release
    /*/counter?...        a count that goes up by one per call (cache tests);
                          `no_store`, `private`, `set_cookie`, `vary=NAME`
                          add what their names say to the answer
    /*/hop                an answer with hop-by-hop headers (Connection names one)
    /*/garbage            bytes that are not HTTP, then the connection closes
    /*/cut                a body shorter than its Content-Length, then it closes;
                          with `?on=NAME`, only instance NAME cuts, the others
                          answer whole
    /*/status/CODE        that status with a plain-text body
    /*/page               an HTML page
    POST /*/redirect?to=  303 to `to`, setting two cookies (a form's answer)

and the service look-alikes at their own paths:

    /orders/ID            an order (`missing` -> 404 problem), like orders
    /payments?order_id=   a list, like payments
    /notifications?...    a list, like notifications
    anything else         echo: method, path, headers and body as JSON
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

NAME = sys.argv[1] if len(sys.argv) > 1 else "upstream"
COUNTER = itertools.count(1)
RELEASE = threading.Event()


# Hop-by-hop headers on an answer; `Connection` names one more.
HOP_HEADERS = {
    "Connection": "X-Hop-Secret",
    "X-Hop-Secret": "for the next hop only",
    "Keep-Alive": "timeout=5",
    "Proxy-Authenticate": "Basic",
    "Proxy-Note": "for the next hop only",
    "Trailer": "X-Checksum",
    "Upgrade": "h2c",
    "X-End-To-End": "kept",
}


def cache_headers(query: dict[str, str]) -> dict[str, str]:
    headers = {}
    if "no_store" in query:
        headers["Cache-Control"] = "no-store"
    if "private" in query:
        headers["Cache-Control"] = "private, max-age=60"
    if "set_cookie" in query:
        headers["Set-Cookie"] = f"visitor={NAME}; Path=/"
    if "vary" in query:
        headers["Vary"] = query["vary"]
    return headers


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read the gateway's logs, not these."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        helper = "/" + "/".join(parts[1:])
        if helper == "/slow":
            time.sleep(float(query.get("seconds", "1")))
            self.send_json(200, {"instance": NAME, "slept": True})
        elif helper == "/events":
            self.send_events()
        elif helper == "/events/release":
            RELEASE.set()
            self.send_json(200, {"released": True})
        elif helper == "/page":
            page = f"<!doctype html><title>{NAME}</title><h1>Shop</h1>".encode()
            self.send_body(200, page, "text/html; charset=utf-8")
        elif helper == "/counter":
            self.send_json(200, {"instance": NAME, "count": next(COUNTER)}, cache_headers(query))
        elif helper == "/hop":
            self.send_json(200, {"instance": NAME}, HOP_HEADERS)
        elif helper == "/garbage":
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            self.close_connection = True
        elif helper == "/cut" and query.get("on", NAME) != NAME:
            self.send_json(200, {"instance": NAME})
        elif helper == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"only ten b")
            self.close_connection = True
        elif len(parts) == 3 and parts[1] == "status":
            self.send_body(int(parts[2]), f"upstream says {parts[2]}".encode(), "text/plain")
        elif parts[0] == "orders" and len(parts) == 2:
            self.send_order(parts[1])
        elif url.path in ("/payments", "/notifications"):
            item = {"order_id": query.get("order_id"), "user": self.headers.get("X-User")}
            self.send_json(200, [item])
        else:
            self.echo()

    do_HEAD = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_GET

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path.endswith("/redirect"):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(303)
            self.send_header("Location", parse_qs(url.query)["to"][0])
            self.send_header("Set-Cookie", "session=s3cr3t; HttpOnly; Path=/; SameSite=Lax")
            self.send_header("Set-Cookie", "flash=placed; Path=/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.echo()

    def echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.send_json(
            200,
            {
                "instance": NAME,
                "method": self.command,
                "path": self.path,
                "headers": headers,
                "body": body,
            },
            {"Set-Cookie": f"instance={NAME}"},
        )

    def send_order(self, order_id: str) -> None:
        if order_id == "missing":
            problem = {"type": "about:blank", "title": "Not Found", "status": 404}
            self.send_body(404, json.dumps(problem).encode(), "application/problem+json")
        else:
            order = {"id": order_id, "status": "PENDING", "user": self.headers.get("X-User")}
            self.send_json(200, order)

    def send_events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.write_chunk(b"data: first\n\n")
        RELEASE.wait(10)
        self.write_chunk(b"data: second\n\n")
        self.write_chunk(b"")

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def send_json(self, status: int, payload: object, headers: dict | None = None) -> None:
        self.send_body(status, json.dumps(payload).encode(), "application/json", headers)

    def send_body(self, status: int, body: bytes, content_type: str, headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
