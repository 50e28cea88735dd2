"""Finding instances from a local cache that a long poll keeps fresh.

`instances(name)` never calls the network: the request path of a caller
(the gateway, a service calling another) must not depend on the registry
being up. One background thread reads `GET /v1/services` once, then
long-polls `?since=INDEX` for only what changed and plays it onto its copy;
it reads the whole list again only when the registry no longer knows what
changed (a restart, a long outage). When the registry is unreachable the
cache keeps the last known instances.

A registry that comes back after an outage may have restarted empty, and
fills up again as instances heartbeat and register anew (within one
heartbeat interval). For `rejoin_grace_seconds` after it answers again,
instances known before the outage keep their place beside what it answers,
so callers are not told "no instance" while the registry heals.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from polyshop_common.backoff import Backoff
from polyshop_common.registry.api import RegistryApi, RegistryError

Services = dict[str, list[dict[str, Any]]]

log = logging.getLogger(__name__)


class Discovery:
    def __init__(
        self,
        api: RegistryApi,
        wait_seconds: float = 30,
        backoff: Backoff = Backoff(maximum=2.0),
        rejoin_grace_seconds: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.wait_seconds = wait_seconds
        self.rejoin_grace_seconds = rejoin_grace_seconds
        self._backoff = backoff
        self._clock = clock
        self._listed: Services = {}  # the registry's own view
        self._services: Services = {}  # what callers see: _listed, and during a grace more
        self._known_before_outage: Services = {}
        self._grace_ends = 0.0
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
                index = self._read(index)
            except (requests.RequestException, RegistryError) as error:
                if failures == 0:
                    log.warning("registry unreachable, serving cached instances: %s", error)
                # Ask without an index next time: a registry that restarted has
                # a new index, and its first answer should come at once.
                index = None
                if self._stop.wait(self._backoff.delay(failures)):
                    return
                failures += 1
                continue
            if failures:
                log.info("registry reachable again")
                self._known_before_outage = self._services
                self._grace_ends = self._clock() + self.rejoin_grace_seconds
            failures = 0
            # One assignment: readers see the old dict or the new, never half.
            self._services = self._with_known(self._listed)
            self._ready.set()

    def _read(self, index: int | None) -> int:
        """Bring the registry's view up to date and return its index: only
        what changed after `index`, or the whole list when that cannot be had."""
        if index is not None:
            delta = self.api.changes_since(index, self._wait())
            if delta is not None:
                self._listed = played(self._listed, delta.changes)
                return delta.index
        snapshot = self.api.list_services()
        self._listed = snapshot.services
        return snapshot.index

    def _wait(self) -> float:
        """Long-poll seconds: during the grace, no longer than what is left of it
        (whole seconds, as the Node.js client asks), so the registry's own view
        replaces the merged one when it ends."""
        left = self._grace_ends - self._clock()
        return min(self.wait_seconds, max(math.ceil(left), 1)) if left > 0 else self.wait_seconds

    def _with_known(self, services: Services) -> Services:
        """The registry's answer, plus, during the grace after an outage, the
        instances known before it that the registry does not list (yet)."""
        if self._clock() >= self._grace_ends:
            return services
        merged = {name: list(instances) for name, instances in services.items()}
        for name, known in self._known_before_outage.items():
            listed = {instance["instance_id"] for instance in merged.get(name, ())}
            missing = [i for i in known if i["instance_id"] not in listed]
            if missing:
                merged[name] = [*merged.get(name, ()), *missing]
        return merged


def played(services: Services, changes: list[dict[str, Any]]) -> Services:
    """`services` with each change played onto it, as a new dict (readers keep
    the old one whole); each service's instances in the order a whole read
    lists them, by id."""
    result = dict(services)
    for change in changes:
        name, instance_id, now = change["service"], change["instance_id"], change["instance"]
        kept = [i for i in result.get(name, ()) if i["instance_id"] != instance_id]
        if now is not None:
            kept = sorted([*kept, now], key=lambda instance: instance["instance_id"])
        if kept:
            result[name] = kept
        else:
            result.pop(name, None)
    return result
