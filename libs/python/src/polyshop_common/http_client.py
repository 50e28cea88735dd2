"""Calling another service through client-side discovery.

The instance comes from the Discovery cache (no registry call on the request
path), chosen round robin. A connect error, a timeout or an answer broken
off before its body came whole is retried once on another instance; when no
instance answers, `ServiceUnavailable`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

import requests

from polyshop_common.errors import TransientError
from polyshop_common.registry import Discovery

log = logging.getLogger(__name__)

ATTEMPTS = 2  # the first instance, then one other
# Refused, reset, too slow, or broken off mid-body (requests reports a body
# shorter than its Content-Length as a ChunkedEncodingError).
NO_ANSWER = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class ServiceUnavailable(TransientError):
    """No live instance of the service answered."""


class ServiceClient:
    def __init__(
        self,
        discovery: Discovery,
        service: str,
        timeout: float = 2.0,
        token: Callable[[], str] | None = None,
    ) -> None:
        self.discovery = discovery
        self.service = service
        self.timeout = timeout
        self._token = token
        self._turn = itertools.count()
        self._session = requests.Session()
        self._session.trust_env = False  # no proxies from the environment between services

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        instances = self.discovery.instances(self.service)
        if not instances:
            raise ServiceUnavailable(f"no live instance of {self.service}")
        start = next(self._turn)
        candidates = [instances[(start + i) % len(instances)] for i in range(len(instances))]
        kwargs.setdefault("timeout", self.timeout)
        kwargs["headers"] = self._headers(kwargs.get("headers"))
        for instance in candidates[:ATTEMPTS]:
            url = f"http://{instance['host']}:{instance['port']}{path}"
            try:
                return self._session.request(method, url, **kwargs)
            except NO_ANSWER as error:
                log.warning(
                    "%s did not answer: %s",
                    self.service,
                    error,
                    extra={"instance_id": instance.get("instance_id")},
                )
        raise ServiceUnavailable(f"no instance of {self.service} answered")

    def close(self) -> None:
        self._session.close()

    def _headers(self, given: dict[str, str] | None) -> dict[str, str]:
        headers = dict(given or {})
        if self._token:
            headers.setdefault("Authorization", f"Bearer {self._token()}")
        return headers
