"""The registry's HTTP API, one method per call; no retry policy here,
but for one: with registries side by side (`REGISTRY_URL` naming several,
separated by commas), a call the current one cannot answer goes to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from polyshop_common.telemetry import untraced


class RegistryError(Exception):
    """The registry answered, but not with success."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"registry answered {status}: {detail}")
        self.status = status


@dataclass(frozen=True)
class Snapshot:
    index: int
    services: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Delta:
    """What changed up to `index`: each instance changed, as it is now (`instance` None: gone)."""

    index: int
    changes: list[dict[str, Any]]


class RegistryApi:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 5.0) -> None:
        # Each registry's address; calls go to the first that answers, and
        # stay with it while it does (its lease times are the ones renewed).
        self.base_urls = [url.strip().rstrip("/") for url in base_url.split(",") if url.strip()]
        self.base_url = self.base_urls[0]
        self.timeout = timeout
        self._session = requests.Session()
        # The registry is on a known address; proxies from the environment
        # would only slow every call down or send it astray.
        self._session.trust_env = False
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def register(self, service: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", instances_path(service), json=body).json()

    def heartbeat(self, service: str, instance_id: str) -> dict[str, Any]:
        return self._call("PUT", f"{instances_path(service, instance_id)}/heartbeat").json()

    def deregister(self, service: str, instance_id: str, timeout: float | None = None) -> None:
        self._call("DELETE", instances_path(service, instance_id), timeout=timeout)

    def list_services(self) -> Snapshot:
        """Every service with its live instances, at once."""
        response = self._call("GET", "/v1/services")
        return Snapshot(int(response.headers["X-Registry-Index"]), response.json()["services"])

    def changes_since(self, index: int, wait: float) -> Delta | None:
        """A long poll: what changed after `index`, once something has or after
        `wait` seconds; None when the registry no longer knows (410)."""
        params = {"since": index, "wait": wait}
        # An index is one registry's own: another's could name other changes.
        # Asked only of the registry that gave it; after an error the caller
        # reads the whole list again, from whichever registry answers.
        try:
            response = self._call(
                "GET", "/v1/services", params=params, timeout=wait + self.timeout, failover=False
            )
        except RegistryError as error:
            if error.status == 410:
                return None
            raise
        return Delta(int(response.headers["X-Registry-Index"]), response.json()["changes"])

    def close(self) -> None:
        self._session.close()

    def _call(
        self,
        method: str,
        path: str,
        timeout: float | None = None,
        failover: bool = True,
        **kwargs: Any,
    ):
        """The answer of the first registry up, trying each in turn from the
        one that answered last; RegistryError if that one refused the call."""
        start = self.base_urls.index(self.base_url)
        order = self.base_urls[start:] + self.base_urls[:start] if failover else [self.base_url]
        for base_url in order[:-1]:
            try:
                response = self._request(method, base_url + path, timeout, **kwargs)
            except requests.ConnectionError:
                continue
            if response.status_code < 500:  # a failing registry: another may not be
                return self._answered(base_url, response)
        last = order[-1]
        return self._answered(last, self._request(method, last + path, timeout, **kwargs))

    def _request(self, method: str, url: str, timeout: float | None, **kwargs: Any):
        with untraced():  # heartbeats and watches are no one's request
            return self._session.request(method, url, timeout=timeout or self.timeout, **kwargs)

    def _answered(self, base_url: str, response: requests.Response) -> requests.Response:
        self.base_url = base_url
        if response.status_code >= 400:
            raise RegistryError(response.status_code, _detail(response))
        return response


def instances_path(service: str, instance_id: str | None = None) -> str:
    """The path of a service's instances (or one of them), each name encoded
    as one path segment: an id holding "/" or "?" cannot reach another path."""
    base = f"/v1/services/{_segment(service)}/instances"
    return base if instance_id is None else f"{base}/{_segment(instance_id)}"


def _segment(name: str) -> str:
    # What JavaScript's encodeURIComponent leaves alone, so both libraries send the same path.
    return quote(name, safe="!'()*")


def _detail(response: requests.Response) -> str:
    try:
        return response.json().get("detail") or response.json().get("title", "")
    except ValueError:
        return response.text[:200]
