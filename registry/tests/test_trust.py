"""Each credential writes only its own services and its own instances; the
registry holds a bounded number of them."""

from __future__ import annotations

import dataclasses

import pytest

from registry.app import create_app
from registry.store import Store

INSTANCE = "/v1/services/catalog/instances/catalog-a"
BODY = {"instance_id": "catalog-a", "host": "127.0.0.1", "port": 5001}


@pytest.fixture
def registered(client, auth) -> None:
    """catalog-a, registered by the credential "shop"."""
    response = client.post("/v1/services/catalog/instances", json=BODY, headers=auth)
    assert response.status_code == 201


def listed(client) -> list[dict]:
    return client.get("/v1/services/catalog").get_json()["instances"]


def assert_forbidden(response) -> None:
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"
    assert response.get_json()["title"] == "Forbidden"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "10.9.9.9"],
    ids=["same_address", "another_address"],
)
def test_another_credential_cannot_overwrite_an_instance(client, auth_as, registered, host):
    before = listed(client)
    body = {**BODY, "host": host}

    response = client.post("/v1/services/catalog/instances", json=body, headers=auth_as("rival"))

    assert_forbidden(response)
    assert listed(client) == before


def test_another_credential_cannot_renew_an_instance(client, auth_as, registered):
    response = client.put(f"{INSTANCE}/heartbeat", headers=auth_as("rival"))

    assert_forbidden(response)


def test_another_credential_cannot_delete_an_instance(client, auth_as, registered):
    response = client.delete(INSTANCE, headers=auth_as("rival"))

    assert_forbidden(response)
    assert [instance["instance_id"] for instance in listed(client)] == ["catalog-a"]


def test_the_owner_still_renews_changes_and_deletes_its_instance(client, auth, registered):
    moved = client.post("/v1/services/catalog/instances", json={**BODY, "port": 6001}, headers=auth)
    renewed = client.put(f"{INSTANCE}/heartbeat", headers=auth)
    deleted = client.delete(INSTANCE, headers=auth)

    assert (moved.status_code, renewed.status_code, deleted.status_code) == (201, 200, 204)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/services/catalog/instances"),
        ("PUT", f"{INSTANCE}/heartbeat"),
        ("DELETE", INSTANCE),
    ],
    ids=["register", "heartbeat", "deregister"],
)
def test_a_credential_writes_only_the_services_it_lists(client, auth_as, registered, method, path):
    response = client.open(path, method=method, json=BODY, headers=auth_as("orders"))

    assert_forbidden(response)
    assert "'orders'" in response.get_json()["detail"]
    assert [instance["port"] for instance in listed(client)] == [5001]


def test_a_credential_registers_the_services_it_lists(client, auth_as):
    response = client.post("/v1/services/orders/instances", json=BODY, headers=auth_as("orders"))

    assert response.status_code == 201


def test_an_unknown_token_is_still_401(client, registered):
    response = client.delete(INSTANCE, headers={"Authorization": "Bearer someone-else"})

    assert response.status_code == 401


@pytest.fixture
def small_app(settings, clock):
    """A registry that holds 3 instances, 2 per service."""
    small = dataclasses.replace(settings, max_instances=3, max_instances_per_service=2)
    store = Store(small.lease_ttl_seconds, limits=small.limits, clock=clock.monotonic)
    return create_app(small, store=store)


def post(client, auth, service: str, instance_id: str):
    body = {**BODY, "instance_id": instance_id}
    return client.post(f"/v1/services/{service}/instances", json=body, headers=auth)


def assert_too_many(response) -> None:
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "15"


def test_a_service_holds_at_most_its_limit_of_instances(small_app, auth):
    client = small_app.test_client()
    assert post(client, auth, "catalog", "a").status_code == 201
    assert post(client, auth, "catalog", "b").status_code == 201

    response = post(client, auth, "catalog", "c")

    assert_too_many(response)
    assert "2 instances" in response.get_json()["detail"]
    assert post(client, auth, "catalog", "b").status_code == 201  # a known one renews
    assert post(client, auth, "orders", "c").status_code == 201  # another service has room


def test_the_registry_holds_at_most_its_limit_of_instances(small_app, auth):
    client = small_app.test_client()
    for service, instance_id in [("catalog", "a"), ("orders", "b"), ("payments", "c")]:
        assert post(client, auth, service, instance_id).status_code == 201

    response = post(client, auth, "catalog", "d")

    assert_too_many(response)
    assert "3 instances" in response.get_json()["detail"]


def test_room_comes_back_when_an_instance_leaves(small_app, auth):
    client = small_app.test_client()
    for service, instance_id in [("catalog", "a"), ("orders", "b"), ("payments", "c")]:
        post(client, auth, service, instance_id)

    client.delete("/v1/services/orders/instances/b", headers=auth)

    assert post(client, auth, "catalog", "d").status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/v1/services/catalog/instances", "rival"),
        ("DELETE", INSTANCE, "orders"),
        ("POST", "/v1/services/catalog/instances", None),
    ],
    ids=["not_the_owner", "not_its_service", "no_token"],
)
def test_error_bodies_name_no_exception_or_library(
    client, auth_as, registered, method, path, headers
):
    response = client.open(path, method=method, json=BODY, headers=headers and auth_as(headers))

    text = response.get_data(as_text=True)
    for leak in ("NotTheOwner", "Exception", "Traceback", "werkzeug", "hmac"):
        assert leak not in text
