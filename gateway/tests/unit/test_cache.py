from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers

from gateway.cache import ResponseCache, is_storable
from gateway.call import Reply

BASE = ("/api/products?", "")
NONE = Headers()


def reply(body, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """An upstream's answer; a body that is not bytes is a stream."""
    listed = list((headers or {}).items())
    if isinstance(body, bytes):
        return Reply(status, listed, body)
    return Reply(status, listed, stream=body)


def test_keeps_an_entry_for_its_ttl(clock):
    cache = ResponseCache(clock)
    cache.put(BASE, NONE, reply(b"[]", 200, {"X-Request-ID": "r1"}), ttl=5)
    clock.advance(4.9)
    entry = cache.get(BASE, NONE)
    assert entry.body == b"[]"
    assert "X-Request-ID" not in dict(entry.headers)
    clock.advance(0.1)
    assert cache.get(BASE, NONE) is None


def test_evicts_when_full(clock):
    cache = ResponseCache(clock, max_entries=2)
    for page in range(3):
        cache.put((f"/p{page}", ""), NONE, reply(b"x"), ttl=5)
    assert cache.get(("/p2", ""), NONE) is not None
    assert len(cache._entries) <= 2
    assert len(cache._vary) <= 2


def test_keeps_one_entry_per_value_of_the_headers_an_answer_varies_on(clock):
    cache = ResponseCache(clock)
    for language in ("en", "fr"):
        answer = reply(language.encode(), 200, {"Vary": "Accept-Language, Origin"})
        cache.put(BASE, Headers({"Accept-Language": language}), answer, ttl=5)
    assert cache.get(BASE, Headers({"Accept-Language": "fr"})).body == b"fr"
    assert cache.get(BASE, Headers({"Accept-Language": "en"})).body == b"en"
    assert cache.get(BASE, Headers({"Accept-Language": "de"})) is None
    assert (
        cache.get(BASE, Headers({"Accept-Language": "en", "Origin": "https://elsewhere"})) is None
    )


def test_never_serves_an_entry_stored_under_another_vary(clock):
    cache = ResponseCache(clock)
    cache.put(BASE, Headers({"Accept": "x"}), reply(b"by accept", 200, {"Vary": "Accept"}), ttl=5)
    cache.put(BASE, Headers({"Origin": "y"}), reply(b"by origin", 200, {"Vary": "Origin"}), ttl=5)
    assert cache.get(BASE, Headers({"Origin": "x"})) is None


def test_stores_only_whole_200_answers_the_upstream_allows():
    assert is_storable(reply(b"x", 200))
    assert is_storable(reply(b"x", 200, {"Vary": "Accept-Language"}))
    assert not is_storable(reply(b"x", 404))
    assert not is_storable(reply(iter([b"x"]), 200))


@pytest.mark.parametrize(
    "headers",
    [
        {"Cache-Control": "no-store"},
        {"Cache-Control": "private, max-age=5"},
        {"Set-Cookie": "session=s; HttpOnly"},
        {"Vary": "*"},
        {"Vary": "Accept-Language, *"},
    ],
)
def test_never_stores_an_answer_meant_for_one_client(headers):
    assert not is_storable(reply(b"x", 200, headers))
