"""The response cache on a route with a TTL."""

from __future__ import annotations


def test_answers_a_repeated_get_from_the_cache(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    first = gateway.get("/api/cached/counter?page=1")
    second = gateway.get("/api/cached/counter?page=1")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert second.json() == first.json()
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]


def test_keys_the_cache_by_query(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    gateway.get("/api/cached/counter?page=1")
    assert gateway.get("/api/cached/counter?page=2").headers["X-Cache"] == "MISS"


def test_honours_no_store_from_the_upstream(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    first = gateway.get("/api/cached/counter?no_store=1")
    second = gateway.get("/api/cached/counter?no_store=1")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "MISS")
    assert second.json() != first.json()


def test_does_not_cache_on_a_route_without_a_ttl(gateway, echo_pair):
    gateway.wait_for("echo", 2)
    assert "X-Cache" not in gateway.get("/api/echo/counter").headers
