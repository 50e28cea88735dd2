"""Response cache for GET requests on routes with a `cache_ttl_seconds`.

A hit is answered by the gateway alone (`X-Cache: HIT`, with `Age`); a miss
goes upstream (`X-Cache: MISS`) and a `200` answer is kept for the route's
TTL, unless the upstream said `Cache-Control: no-store` or `private`. The
key holds the user, so one user's answer never reaches another, and the
`Accept-Encoding`, so a compressed body only reaches a client that asked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request

# Headers that belong to one response, not to what is cached.
NOT_CACHED_HEADERS = frozenset({"x-request-id", "x-cache", "age", "retry-after"})
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class Entry:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stored_at: float
    expires_at: float


class ResponseCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = 1024):
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[tuple[str, ...], Entry] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self.clock():
            return None
        return entry

    def put(self, key: tuple[str, ...], response: Response, ttl: float) -> None:
        now = self.clock()
        headers = [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in NOT_CACHED_HEADERS and not name.lower().startswith("ratelimit-")
        ]
        entry = Entry(response.status_code, headers, response.get_data(), now, now + ttl)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._evict(now)
            self._entries[key] = entry

    def _evict(self, now: float) -> None:
        expired = [key for key, entry in self._entries.items() if entry.expires_at <= now]
        for key in expired or list(self._entries)[: self.max_entries // 10 + 1]:
            del self._entries[key]


def register_cache(app: Flask, cache: ResponseCache) -> None:
    app.extensions["gateway.cache"] = cache
    app.before_request(serve_from_cache)
    app.after_request(store_in_cache)


def serve_from_cache() -> Response | None:
    """Policy step: answer a GET from the cache when a fresh copy is there."""
    route = g.get("route")
    g.cache_key = None
    if route is None or route.cache_ttl_seconds <= 0 or request.method != "GET":
        return None
    g.cache_key = (
        g.get("user") or "",
        request.full_path,
        request.headers.get("Accept-Encoding", ""),
    )
    cache: ResponseCache = current_app.extensions["gateway.cache"]
    entry = cache.get(g.cache_key)
    if entry is None:
        return None
    g.cache_key = None  # nothing to store after a hit
    response = Response(entry.body, entry.status, entry.headers)
    response.headers["Age"] = str(int(cache.clock() - entry.stored_at))
    response.headers["X-Cache"] = "HIT"
    return response


def store_in_cache(response: Response) -> Response:
    key = g.get("cache_key")
    if key is None:
        return response
    response.headers["X-Cache"] = "MISS"
    if is_storable(response):
        cache: ResponseCache = current_app.extensions["gateway.cache"]
        cache.put(key, response, g.route.cache_ttl_seconds)
    return response


def is_storable(response: Response) -> bool:
    directives = {
        part.strip().split("=")[0].lower()
        for part in response.headers.get("Cache-Control", "").split(",")
    }
    return (
        response.status_code == 200
        and not response.is_streamed
        and not directives & {"no-store", "private"}
        and (response.content_length or 0) <= MAX_BODY_BYTES
    )
