"""Calling another service through client-side discovery.

The instance comes from the Discovery cache (no registry call on the request
path), chosen round robin. A connect error, a timeout or an answer broken
off before its body came whole is retried once on another instance; when no
instance answers, `ServiceUnavailable`.

Calls go through a urllib3 pool of kept-alive connections, without the
`requests` layer above it: per call that layer re-parses the URL, merges
settings and copies headers, and it was about a tenth of orders' CPU per
order, spent asking catalog for prices (docs/benchmarks/profile.md, as the
gateway found in ADR 0004). No proxy settings are read from the
environment: calls between services go straight to the instance.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3

from polyshop_common.errors import TransientError
from polyshop_common.registry import Discovery

log = logging.getLogger(__name__)

ATTEMPTS = 2  # the first instance, then one other
POOL_SIZE = 16  # kept-alive connections per instance: one per request thread is plenty


class ServiceUnavailable(TransientError):
    """No live instance of the service answered."""


@dataclass(frozen=True)
class Answer:
    """An instance's whole answer, whatever its status: the caller judges it."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


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
        self.timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self._token = token
        self._turn = itertools.count()
        self._pools = urllib3.PoolManager(maxsize=POOL_SIZE)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        instances = self.discovery.instances(self.service)
        if not instances:
            raise ServiceUnavailable(f"no live instance of {self.service}")
        start = next(self._turn)
        candidates = [instances[(start + i) % len(instances)] for i in range(len(instances))]
        for instance in candidates[:ATTEMPTS]:
            url = f"http://{instance['host']}:{instance['port']}{path}"
            try:
                response = self._pools.request(
                    method,
                    url,
                    body=body,
                    headers=self._headers(headers),
                    timeout=self.timeout,
                    retries=False,  # the retry is ours, on another instance
                    redirect=False,
                )
            # Refused, reset, too slow, or broken off mid-body (a body shorter
            # than its Content-Length is a ProtocolError).
            except urllib3.exceptions.HTTPError as error:
                log.warning(
                    "%s did not answer: %s",
                    self.service,
                    error,
                    extra={"instance_id": instance.get("instance_id")},
                )
                continue
            return Answer(response.status, response.headers, response.data)
        raise ServiceUnavailable(f"no instance of {self.service} answered")

    def close(self) -> None:
        self._pools.clear()

    def _headers(self, given: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json", **(given or {})}
        if self._token:
            headers.setdefault("Authorization", f"Bearer {self._token()}")
        return headers
