"""The /v1 API end to end through Flask's test client (no network)."""

from __future__ import annotations

import re

ISO_UTC_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_registration_answers_201_with_the_lease_and_a_location(register):
    response = register("catalog", host="10.0.0.7", port=5001)

    assert response.status_code == 201
    assert response.get_json() == {"instance_id": "catalog-10.0.0.7-5001", "lease_ttl_seconds": 15}
    assert response.headers["Location"] == "/v1/services/catalog/instances/catalog-10.0.0.7-5001"


def test_registering_the_same_instance_twice_keeps_one_instance(register, client):
    first = register(instance_id="catalog-a")
    second = register(instance_id="catalog-a")

    assert first.status_code == second.status_code == 201
    assert len(client.get("/v1/services/catalog").get_json()["instances"]) == 1


def test_read_of_one_service_shows_the_instance_in_its_documented_shape(register, client):
    register(
        instance_id="catalog-a",
        health_url="http://127.0.0.1:5001/readyz",
        metadata={"version": "1.2.0"},
    )

    response = client.get("/v1/services/catalog")

    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "catalog"
    [instance] = body["instances"]
    assert list(instance) == [
        "instance_id",
        "service",
        "host",
        "port",
        "health_url",
        "metadata",
        "registered_at",
        "last_heartbeat_at",
        "lease_expires_at",
    ]
    assert instance["health_url"] == "http://127.0.0.1:5001/readyz"
    assert instance["metadata"] == {"version": "1.2.0"}
    assert all(ISO_UTC_MS.fullmatch(instance[key]) for key in list(instance)[-3:])


def test_read_of_all_services_lists_only_services_with_live_instances(register, client, auth):
    register("catalog")
    register("orders", port=5002)
    client.delete("/v1/services/orders/instances/orders-127.0.0.1-5002", headers=auth)

    body = client.get("/v1/services").get_json()

    assert list(body["services"]) == ["catalog"]


def test_read_of_an_unknown_service_answers_an_empty_list(client):
    response = client.get("/v1/services/payments")

    assert response.status_code == 200
    assert response.get_json() == {"name": "payments", "instances": []}


def test_every_read_answer_carries_the_change_index(register, client, store):
    register()

    for path in ("/v1/services", "/v1/services/catalog", "/v1/evictions"):
        assert client.get(path).headers["X-Registry-Index"] == str(store.index)


def test_heartbeat_renews_a_known_instance(register, client, auth, clock):
    register(instance_id="catalog-a")
    clock.advance(5)

    response = client.put("/v1/services/catalog/instances/catalog-a/heartbeat", headers=auth)

    assert response.status_code == 200
    assert response.get_json() == {"instance_id": "catalog-a", "lease_ttl_seconds": 15}


def test_heartbeat_for_an_unknown_instance_answers_404_problem(client, auth):
    response = client.put("/v1/services/catalog/instances/catalog-a/heartbeat", headers=auth)

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert "Register it again" in response.get_json()["detail"]


def test_deregister_removes_the_instance(register, client, auth):
    register(instance_id="catalog-a")

    response = client.delete("/v1/services/catalog/instances/catalog-a", headers=auth)

    assert response.status_code == 204
    assert client.get("/v1/services/catalog").get_json()["instances"] == []


def test_deregister_of_an_unknown_instance_answers_404_problem(client, auth):
    response = client.delete("/v1/services/catalog/instances/catalog-a", headers=auth)

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_location_of_a_registration_answers_the_instance(register, client):
    location = register(instance_id="catalog-a").headers["Location"]

    response = client.get(location)

    assert response.status_code == 200
    assert response.get_json()["instance_id"] == "catalog-a"


def test_evictions_are_listed_newest_first(register, client, store, clock):
    register(instance_id="catalog-a")
    clock.advance(10)
    register(instance_id="catalog-b")
    clock.advance(6)
    store.evict_expired()
    clock.advance(10)
    store.evict_expired()

    evictions = client.get("/v1/evictions").get_json()["evictions"]

    assert [e["instance_id"] for e in evictions] == ["catalog-b", "catalog-a"]
    assert list(evictions[0]) == [
        "service",
        "instance_id",
        "host",
        "port",
        "last_heartbeat_at",
        "evicted_at",
    ]
    assert ISO_UTC_MS.fullmatch(evictions[0]["evicted_at"])


def test_unknown_route_answers_404_problem(client):
    response = client.get("/v1/nothing/here/at/all")

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_health_probes_answer_ok(client):
    for path in ("/livez", "/readyz"):
        response = client.get(path)
        assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
