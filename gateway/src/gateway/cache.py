"""Response cache for GET requests on routes with a `cache_ttl_seconds`.

A hit is answered by the gateway alone (`X-Cache: HIT`, with `Age`); a miss
goes upstream (`X-Cache: MISS`) and a `200` answer is kept for the route's
TTL. A shared cache must never hand one client's answer to another, so:

- a request with `Authorization` or `Cookie` is neither answered from the
  cache nor stored: its answer may be made for whoever sent them, even on
  a public route (the service may read the token itself);
- an answer that sets a cookie, or says `Cache-Control: private` or
  `no-store`, or `Vary: *`, is not stored;
- an answer with `Vary` is stored per value of the request headers it
  names (RFC 9111 4.1), and every answer per `Accept-Encoding`, so a
  compressed body only reaches a client that asked for one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.call import Call, Reply

# Headers that belong to one response, not to what is cached.
NOT_CACHED_HEADERS = frozenset({"x-request-id", "x-cache", "age", "retry-after"})
# Request headers that say who is asking.
CREDENTIALS = ("Authorization", "Cookie")
MAX_BODY_BYTES = 256 * 1024

Base = tuple[str, str]  # path with query, Accept-Encoding
Key = tuple[Base, tuple[str, ...]]  # the base, and "name:value" per header the answer varies on


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
        self._entries: dict[Key, Entry] = {}
        # The request headers the last answer stored for a base varies on.
        self._vary: dict[Base, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def get(self, base: Base, request_headers: Mapping[str, str]) -> Entry | None:
        key = (base, variant(self._vary.get(base, ()), request_headers))
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self.clock():
            return None
        return entry

    def put(self, base: Base, request_headers: Mapping[str, str], reply: Reply, ttl: float) -> None:
        now = self.clock()
        names = vary_names(reply)
        headers = [
            (name, value)
            for name, value in reply.headers
            if name.lower() not in NOT_CACHED_HEADERS and not name.lower().startswith("ratelimit-")
        ]
        entry = Entry(reply.status, headers, reply.body, now, now + ttl)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._evict(now)
            self._vary[base] = names
            self._entries[(base, variant(names, request_headers))] = entry

    def _evict(self, now: float) -> None:
        expired = [key for key, entry in self._entries.items() if entry.expires_at <= now]
        for key in expired or list(self._entries)[: self.max_entries // 10 + 1]:
            del self._entries[key]
        kept = {base for base, _ in self._entries}
        self._vary = {base: names for base, names in self._vary.items() if base in kept}


def variant(names: tuple[str, ...], request_headers: Mapping[str, str]) -> tuple[str, ...]:
    # The names are part of the key, so a base whose answer starts to vary on
    # another header never matches an entry stored under the old one.
    return tuple(f"{name}:{request_headers.get(name, '').strip()}" for name in names)


def vary_names(reply: Reply) -> tuple[str, ...]:
    """The request headers the answer varies on, lower-cased and sorted."""
    values = ",".join(reply.headers_named("Vary"))
    return tuple(sorted({name.strip().lower() for name in values.split(",") if name.strip()}))


def serve_from_cache(cache: ResponseCache, call: Call) -> Reply | None:
    """Policy step: answer a GET from the cache when a fresh copy is there."""
    route, request = call.route, call.request
    if route is None or route.cache_ttl_seconds <= 0 or request.method != "GET":
        return None
    if any(name in request.headers for name in CREDENTIALS) or call.user:
        return None
    base = (request.full_path, request.headers.get("Accept-Encoding", ""))
    entry = cache.get(base, request.headers)
    if entry is None:
        call.cache_base = base  # the answer may be stored
        return None
    headers = [
        *entry.headers,
        ("Age", str(int(cache.clock() - entry.stored_at))),
        ("X-Cache", "HIT"),
    ]
    return Reply(entry.status, headers, entry.body)


def store_in_cache(cache: ResponseCache, call: Call, reply: Reply) -> None:
    if call.cache_base is None:
        return
    reply.headers.append(("X-Cache", "MISS"))
    if is_storable(reply):
        cache.put(call.cache_base, call.request.headers, reply, call.route.cache_ttl_seconds)


def is_storable(reply: Reply) -> bool:
    directives = {
        part.strip().split("=")[0].lower()
        for part in (reply.header("Cache-Control") or "").split(",")
    }
    return (
        reply.status == 200
        and reply.stream is None
        and not directives & {"no-store", "private"}
        and reply.header("Set-Cookie") is None
        and "*" not in vary_names(reply)
        and len(reply.body) <= MAX_BODY_BYTES
    )
