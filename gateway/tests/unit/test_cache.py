from __future__ import annotations

from flask import Response

from gateway.cache import ResponseCache, is_storable

KEY = ("", "/api/products?", "")


def test_keeps_an_entry_for_its_ttl(clock):
    cache = ResponseCache(clock)
    cache.put(KEY, Response(b"[]", 200, {"X-Request-ID": "r1"}), ttl=5)
    clock.advance(4.9)
    entry = cache.get(KEY)
    assert entry.body == b"[]"
    assert "X-Request-ID" not in dict(entry.headers)
    clock.advance(0.1)
    assert cache.get(KEY) is None


def test_evicts_when_full(clock):
    cache = ResponseCache(clock, max_entries=2)
    for page in range(3):
        cache.put(("", f"/p{page}", ""), Response(b"x"), ttl=5)
    assert cache.get(("", "/p2", "")) is not None
    assert len(cache._entries) <= 2


def test_stores_only_whole_200_answers_the_upstream_allows():
    assert is_storable(Response(b"x", 200))
    assert not is_storable(Response(b"x", 404))
    assert not is_storable(Response(b"x", 200, {"Cache-Control": "no-store"}))
    assert not is_storable(Response(b"x", 200, {"Cache-Control": "private, max-age=5"}))
    assert not is_storable(Response(iter([b"x"]), 200))
