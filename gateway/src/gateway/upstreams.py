"""Calling a service: discovery, balancing, breaker, timeout and retry.

`Upstreams.send` is the one way the gateway reaches a service. It takes the
live instances from the discovery cache (no registry call on the request
path), leaves out instances whose breaker is open, lets the balancer choose,
and on a failed connection retries an idempotent request once on another
instance. It answers with an `Exchange` or raises a problem: 503 when no
instance is live, 502 when the upstream failed, 504 when it timed out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from gateway.balancer import Balancer, Instance, instance_key
from gateway.breaker import Breakers
from polyshop_common.problems import Problem

log = logging.getLogger(__name__)

STREAM_CHUNK_BYTES = 64 * 1024


@dataclass
class Exchange:
    """An upstream response whose body is still to be read, once."""

    response: requests.Response
    instance: Instance
    balancer: Balancer
    done: bool = field(default=False)

    def read(self) -> bytes:
        """The whole body, as sent (still compressed if it was)."""
        try:
            return self.response.raw.read(decode_content=False)
        except urllib3.exceptions.ReadTimeoutError:
            raise _failure(requests.ReadTimeout()) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _failure(error) from None
        finally:
            self.close()

    def stream(self) -> Iterator[bytes]:
        """The body chunk by chunk, as soon as each arrives (server-sent events)."""
        try:
            while chunk := self.response.raw.read1(STREAM_CHUNK_BYTES, decode_content=False):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        if not self.done:
            self.done = True
            self.response.close()
            self.balancer.finished(self.instance)


class Upstreams:
    def __init__(
        self, discovery: Any, balancer: Balancer, breakers: Breakers, session: requests.Session
    ) -> None:
        self.discovery = discovery
        self.balancer = balancer
        self.breakers = breakers
        self.session = session

    def send(
        self,
        service: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        body: bytes = b"",
        timeout: float,
        retries: int = 0,
    ) -> Exchange:
        tried: list[str] = []
        last_error: Exception | None = None
        for _attempt in range(1 + retries):
            instance = self.pick(service, exclude=tried)
            if instance is None:
                break
            tried.append(instance_key(instance))
            try:
                return self._attempt(instance, method, path, headers, body, timeout)
            except requests.ConnectionError as error:
                log.warning("connection to %s failed: %s", tried[-1], error)
                last_error = error
        if not tried:
            raise Problem(503, "Service unavailable", f"No live instance of {service}.")
        raise _failure(last_error)

    def pick(self, service: str, exclude: list[str]) -> Instance | None:
        """A live instance, not yet tried, whose breaker lets a request through."""
        candidates = [
            instance
            for instance in self.discovery.instances(service)
            if instance_key(instance) not in exclude and self._breaker(instance).available()
        ]
        while candidates:
            instance = self.balancer.choose(service, candidates)
            if self._breaker(instance).acquire():
                return instance
            candidates.remove(instance)  # another request took its half-open probe
        return None

    def _breaker(self, instance: Instance):
        return self.breakers.of(instance_key(instance), instance.get("registered_at"))

    def _attempt(self, instance, method, path, headers, body, timeout) -> Exchange:
        breaker = self._breaker(instance)
        url = f"http://{instance['host']}:{instance['port']}{path}"
        # A request prepared on its own skips the Session's per-call merging of
        # cookies and settings (measured: a quarter of the cost of a call).
        prepared = requests.Request(method, url, headers=dict(headers), data=body or None).prepare()
        self.balancer.started(instance)
        try:
            response = self.session.send(
                prepared, timeout=timeout, stream=True, allow_redirects=False
            )
        except requests.RequestException as error:
            self.balancer.finished(instance)
            # Refused or reset: the instance is not serving; eject it at once.
            breaker.record_failure(eject=isinstance(error, requests.ConnectionError))
            if isinstance(error, requests.ConnectionError):
                raise  # the caller may retry it on another instance
            raise _failure(error) from None
        breaker.record_success()
        return Exchange(response, instance, self.balancer)


def _failure(error: Exception | None) -> Problem:
    if isinstance(error, requests.Timeout):
        return Problem(504, "Gateway timeout", "The upstream did not answer in time.")
    return Problem(502, "Bad gateway", f"The upstream failed: {type(error).__name__}.")


def make_session(pool_maxsize: int) -> requests.Session:
    """The one HTTP client of a gateway process, shared by all its threads.

    Keep-alive connections are pooled per instance (`pool_maxsize` each);
    `trust_env=False` skips the proxy and netrc look-ups `requests` would
    otherwise do on every call; cookies are never stored, or one client's
    cookie would be sent with another client's request.
    """
    session = requests.Session()
    session.trust_env = False
    session.headers.clear()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = HTTPAdapter(pool_connections=32, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    return session
