"""Calling a service: discovery, balancing, breaker, timeout and retry.

`Upstreams.send` is the one way the gateway reaches a service. It takes the
live instances from the discovery cache (no registry call on the request
path), leaves out instances whose breaker is open, lets the balancer choose,
and on a failed connection, or an answer broken off before its body came
whole, retries an idempotent request once on another instance. It answers
with an `Exchange` or raises a problem: 503 when no instance is live, 502
when the upstream failed, 504 when it timed out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
)

from gateway.balancer import Balancer, Instance, instance_key
from gateway.breaker import Breakers
from gateway.metrics import RETRIES, UPSTREAM_DURATION
from polyshop_common.problems import Problem

log = logging.getLogger(__name__)

STREAM_CHUNK_BYTES = 64 * 1024

# The instance did not take the request: refused, reset, or no connection in
# time. Nothing reached the service, so an idempotent request may go elsewhere.
CONNECTION_FAILED = (ConnectTimeoutError, ProtocolError)


@dataclass
class Exchange:
    """An upstream response whose body is still to be read, once."""

    response: urllib3.BaseHTTPResponse
    instance: Instance
    balancer: Balancer
    done: bool = field(default=False)
    body: bytes | None = None  # read already, by `preload`

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def headers(self) -> urllib3.HTTPHeaderDict:
        return self.response.headers

    @property
    def is_stream(self) -> bool:
        return self.headers.get("Content-Type", "").startswith("text/event-stream")

    def preload(self) -> None:
        """Reads the body now; a connection that breaks meanwhile raises as is."""
        try:
            self.body = self.response.read(decode_content=False)
        except CONNECTION_FAILED:
            raise
        except (HTTPError, OSError) as error:
            raise _failure(error) from None
        finally:
            self.close()

    def read(self) -> bytes:
        if self.body is not None:
            return self.body
        """The whole body, as sent (still compressed if it was)."""
        try:
            return self.response.read(decode_content=False)
        except (HTTPError, OSError) as error:
            raise _failure(error) from None
        finally:
            self.close()

    def stream(self) -> Iterator[bytes]:
        """The body chunk by chunk, as soon as each arrives (server-sent events)."""
        try:
            while chunk := self.response.read1(STREAM_CHUNK_BYTES, decode_content=False):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        if not self.done:
            self.done = True
            self.response.close()  # a body read to its end has already freed its connection
            self.response.release_conn()
            self.balancer.finished(self.instance)


class Upstreams:
    def __init__(
        self, discovery: Any, balancer: Balancer, breakers: Breakers, pools: urllib3.PoolManager
    ) -> None:
        self.discovery = discovery
        self.balancer = balancer
        self.breakers = breakers
        self.pools = pools

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
        # A worker that has just started may not have its first view of the
        # registry yet (/readyz answered from another worker): wait for it
        # rather than tell the caller there is no instance.
        self.discovery.wait_ready(timeout)
        tried: list[str] = []
        last_error: Exception | None = None
        for attempt in range(1 + retries):
            instance = self.pick(service, exclude=tried)
            if instance is None:
                break
            if attempt:
                RETRIES.labels(service).inc()
            tried.append(instance_key(instance))
            try:
                exchange = self._attempt(service, instance, method, path, headers, body, timeout)
                if attempt < retries and not exchange.is_stream:
                    self._preload(exchange)
                return exchange
            except CONNECTION_FAILED as error:
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

    def _preload(self, exchange: Exchange) -> None:
        """The body, read while another instance may still be tried: one that
        dies between its answer's head and its body costs a retry, not a 502."""
        try:
            exchange.preload()
        except CONNECTION_FAILED:
            self._breaker(exchange.instance).record_failure()
            raise

    def _breaker(self, instance: Instance):
        return self.breakers.of(instance_key(instance), instance.get("registered_at"))

    def _attempt(self, service, instance, method, path, headers, body, timeout) -> Exchange:
        breaker = self._breaker(instance)
        pool = self.pools.connection_from_host(instance["host"], instance["port"], scheme="http")
        self.balancer.started(instance)
        started = time.perf_counter()
        try:
            response = pool.urlopen(
                method,
                path,
                body=body or None,
                headers=headers,
                timeout=timeout,  # to connect, and between two reads
                retries=False,  # the gateway's own policy decides, on another instance
                redirect=False,
                preload_content=False,  # the body is read (or streamed) by the caller
                decode_content=False,
            )
        except (HTTPError, OSError) as error:
            self.balancer.finished(instance)
            failed_to_connect = isinstance(error, CONNECTION_FAILED)
            # Refused or reset: the instance is not serving; eject it at once.
            breaker.record_failure(eject=failed_to_connect)
            if failed_to_connect:
                raise  # the caller may retry it on another instance
            raise _failure(error) from None
        breaker.record_success()
        UPSTREAM_DURATION.labels(service, instance_key(instance)).observe(
            time.perf_counter() - started
        )
        return Exchange(response, instance, self.balancer)


def _failure(error: Exception | None) -> Problem:
    """The client's answer names what went wrong in the gateway's words; the
    client library's message (hosts, ports, its own class names) goes only
    to the log."""
    log.warning("upstream call failed: %r", error)
    # NewConnectionError (refused) is a ConnectTimeoutError to urllib3, but not a timeout.
    if isinstance(error, NewConnectionError):
        return Problem(502, "Bad gateway", "The upstream refused the connection.")
    if isinstance(error, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return Problem(504, "Gateway timeout", "The upstream did not answer in time.")
    return Problem(502, "Bad gateway", "The upstream failed before a whole answer came back.")


def make_pools(pool_maxsize: int) -> urllib3.PoolManager:
    """The one HTTP client of a gateway process, shared by all its greenlets.

    urllib3 is the connection pool `requests` is built on, used here without
    the `requests` layer above it: per call that layer re-parses the URL,
    merges settings and copies headers and cookies, and measured, it cost
    the gateway a quarter of its throughput (ADR 0004). Keep-alive
    connections are pooled per instance (`pool_maxsize` each); no cookie jar
    exists, so no client's cookie can reach another client's request.
    """
    return urllib3.PoolManager(num_pools=32, maxsize=pool_maxsize)
