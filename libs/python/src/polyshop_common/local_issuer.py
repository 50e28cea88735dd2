"""A real issuer on a spare port, for tests: the gateway's issuer endpoints
with a key made for the run, so services verify tokens in tests exactly as
in the shop (metadata, then keys over HTTP).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from polyshop_common.issuer import Issuer, register_issuer
from polyshop_common.problems import register_problem_handlers
from polyshop_common.signing import (
    Clients,
    SigningKey,
    secret_digest,
    service_claims,
    user_claims,
)


class LocalIssuer:
    def __init__(self, clients: dict[str, tuple[str, list[str]]] | None = None) -> None:
        """`clients`: client id -> (secret, callees it may obtain tokens for)."""
        table = {
            name: (secret_digest(secret), frozenset(audiences))
            for name, (secret, audiences) in (clients or {}).items()
        }
        app = Flask(__name__)
        register_problem_handlers(app)
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.issuer = Issuer(self.url, SigningKey.generate(), Clients(table))
        register_issuer(app, self.issuer)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def key(self) -> SigningKey:
        return self.issuer.key

    def sign(self, claims: dict[str, Any], key: SigningKey | None = None) -> str:
        return (key or self.issuer.key).sign(claims)

    def user_token(self, user: str = "alice", ttl: int = 60, **changes: Any) -> str:
        return self.sign(user_claims(self.url, user, ttl, int(time.time())) | changes)

    def service_token(self, caller: str, callee: str, **changes: Any) -> str:
        return self.sign(service_claims(self.url, caller, callee, int(time.time())) | changes)

    def rotate(self) -> SigningKey:
        """Sign with a new key from now on; the old one stays published."""
        old = self.issuer.key
        self.issuer.key = SigningKey.generate()
        self.issuer.retired = (old, *self.issuer.retired)
        return self.issuer.key

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
