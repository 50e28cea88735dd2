"""Finding instances from a local cache that a long poll keeps fresh.

`instances(name)` never calls the network: the request path of a caller
(the gateway, a service calling another) must not depend on the registry
being up. One background thread long-polls `GET /v1/services`; when the
registry is unreachable the cache keeps the last known instances.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests

from polyshop_common.backoff import Backoff
from polyshop_common.registry.api import RegistryApi, RegistryError

log = logging.getLogger(__name__)


class Discovery:
    def __init__(
        self,
        api: RegistryApi,
        wait_seconds: float = 30,
        backoff: Backoff = Backoff(maximum=2.0),
    ) -> None:
        self.api = api
        self.wait_seconds = wait_seconds
        self._backoff = backoff
        self._services: dict[str, list[dict[str, Any]]] = {}
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="registry-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def instances(self, service: str) -> list[dict[str, Any]]:
        return list(self._services.get(service, ()))

    def services(self) -> dict[str, list[dict[str, Any]]]:
        return dict(self._services)

    def close(self) -> None:
        # The long poll cannot be interrupted; the daemon thread ends with it.
        self._stop.set()

    def _run(self) -> None:
        index: int | None = None
        failures = 0
        while not self._stop.is_set():
            try:
                snapshot = self.api.list_services(index=index, wait=self.wait_seconds)
            except (requests.RequestException, RegistryError) as error:
                if failures == 0:
                    log.warning("registry unreachable, serving cached instances: %s", error)
                if self._stop.wait(self._backoff.delay(failures)):
                    return
                failures += 1
                continue
            if failures:
                log.info("registry reachable again")
            failures = 0
            index = snapshot.index
            # One assignment: readers see the old dict or the new, never half.
            self._services = snapshot.services
            self._ready.set()
