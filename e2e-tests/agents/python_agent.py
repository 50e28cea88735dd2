"""A tiny service that only registers and discovers, through the Python client.

End-to-end tests start it (and its Node twin, node-agent.mjs) as a real
process to show both registry clients behave the same. Environment:
REGISTRY_URL, REGISTRY_TOKEN, AGENT_SERVICE, PORT.
"""

import os

from flask import Flask, jsonify
from werkzeug.serving import make_server

from polyshop_common.logs import configure_logging
from polyshop_common.registry import Discovery, Registration, RegistryApi
from polyshop_common.shutdown import exit_on_signals


def create_app(registration: Registration, discovery: Discovery) -> Flask:
    app = Flask(__name__)

    @app.get("/discover/<name>")
    def discover(name: str):
        return jsonify(instances=discovery.instances(name))

    @app.get("/livez")
    def livez():
        return jsonify(status="ok", registered=registration.registered)

    # What a gateway routing to this service reaches (it strips /api).
    @app.get(f"/{registration.service}")
    def whoami():
        return jsonify(instance=registration.instance_id, client="python-agent")

    return app


def main() -> None:
    configure_logging("python-agent")
    port = int(os.environ["PORT"])
    api = RegistryApi(os.environ["REGISTRY_URL"], token=os.environ["REGISTRY_TOKEN"])
    registration = Registration(api, os.environ["AGENT_SERVICE"], "127.0.0.1", port)
    discovery = Discovery(api, wait_seconds=10)
    server = make_server("127.0.0.1", port, create_app(registration, discovery), threaded=True)
    exit_on_signals(registration.close, discovery.close, server.server_close)
    registration.start()
    discovery.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
