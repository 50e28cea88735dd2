"""Keeping one instance registered: register, heartbeat, re-register, leave.

A background thread registers (retrying with backoff until the registry
answers), then heartbeats every third of the lease. A `404` on a heartbeat
means the registry forgot us (lease expired, or it restarted): register again
at once. While the registry is unreachable the heartbeat keeps its interval,
never slower, so a restarted registry is healed within one interval.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests

from polyshop_common import faults
from polyshop_common.backoff import Backoff
from polyshop_common.registry.api import RegistryApi, RegistryError

log = logging.getLogger(__name__)


class Registration:
    def __init__(
        self,
        api: RegistryApi,
        service: str,
        host: str,
        port: int,
        *,
        instance_id: str | None = None,
        health_url: str | None = None,
        metadata: dict[str, str] | None = None,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.api = api
        self.service = service
        self.instance_id = instance_id or f"{service}-{host}-{port}"
        self._body: dict[str, Any] = {"instance_id": self.instance_id, "host": host, "port": port}
        if health_url:
            self._body["health_url"] = health_url
        if metadata:
            self._body["metadata"] = metadata
        self._backoff = backoff
        self._stop = threading.Event()
        self._registered = threading.Event()
        self._thread = threading.Thread(target=self._run, name="registry-heartbeat", daemon=True)

    @property
    def registered(self) -> bool:
        return self._registered.is_set()

    def start(self) -> None:
        self._thread.start()

    def wait_registered(self, timeout: float) -> bool:
        return self._registered.wait(timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Stop heartbeating and leave the registry (best effort)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._registered.is_set():
            try:
                self.api.deregister(self.service, self.instance_id, timeout=timeout)
                log.info("deregistered", extra={"instance_id": self.instance_id})
            except (requests.RequestException, RegistryError) as error:
                log.warning("could not deregister: %s", error)
            self._registered.clear()

    def _run(self) -> None:
        interval = self._register_until_answered()
        while interval is not None and not self._stop.wait(interval):
            interval = self._heartbeat(interval)

    def _register_until_answered(self) -> float | None:
        attempt = 0
        while not self._stop.is_set():
            try:
                lease = self.api.register(self.service, self._body)
            except (requests.RequestException, RegistryError) as error:
                log.warning("registry not answering, will retry: %s", error)
                if self._stop.wait(self._backoff.delay(attempt)):
                    return None
                attempt += 1
                continue
            self._registered.set()
            log.info("registered", extra={"instance_id": self.instance_id})
            return lease["lease_ttl_seconds"] / 3
        return None

    def _heartbeat(self, interval: float) -> float | None:
        if faults.on(faults.STOP_HEARTBEATS):
            return interval  # the lease runs out and the registry evicts this instance
        try:
            self.api.heartbeat(self.service, self.instance_id)
        except RegistryError as error:
            if error.status != 404:
                log.warning("heartbeat refused: %s", error)
                return interval
            log.info("registry does not know this instance, registering again")
            return self._register_until_answered()
        except requests.RequestException as error:
            log.warning("heartbeat failed, registry unreachable: %s", error)
        return interval
