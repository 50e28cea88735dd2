"""A stock Eureka client in Python (py-eureka-client), unchanged, against polyshop's registry.

Registers AGENT_SERVICE with the registry's Eureka API at EUREKA_URL (which
carries the registry credential as user and password), renews every
RENEW_SECONDS, and answers:

  GET / or /<service>     which service and instance this is, and its client
  GET /discovered/<app>   the instances of <app> this client's copy holds
"""

from __future__ import annotations

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from py_eureka_client import eureka_client

SERVICE = os.environ["AGENT_SERVICE"]
PORT = int(os.environ["PORT"])
INSTANCE_ID = f"{SERVICE}-127.0.0.1-{PORT}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path in ("/", f"/{SERVICE}"):  # the gateway sends /<service>
            self.reply({"service": SERVICE, "instance": INSTANCE_ID, "client": "py-eureka-client"})
        elif self.path.startswith("/discovered/"):
            app = self.path.removeprefix("/discovered/")
            found = eureka_client.get_client().applications.get_application(app.upper())
            instances = [
                {"instanceId": i.instanceId, "host": i.ipAddr, "port": i.port.port}
                for i in (found.up_instances if found else [])
            ]
            self.reply({"service": app, "instances": instances})
        else:
            self.send_error(404)

    def reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    renew = int(os.environ.get("RENEW_SECONDS", "1"))
    eureka_client.init(
        eureka_server=os.environ["EUREKA_URL"],
        app_name=SERVICE,
        instance_id=INSTANCE_ID,
        instance_host="127.0.0.1",
        instance_ip="127.0.0.1",
        instance_port=PORT,
        renewal_interval_in_secs=renew,
        duration_in_secs=3 * renew,
    )
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)

    def leave(*_: object) -> None:
        eureka_client.stop()  # DOWN, then cancel: as the client does on shutdown
        sys.exit(0)

    signal.signal(signal.SIGTERM, leave)
    server.serve_forever()


if __name__ == "__main__":
    main()
