"""Bad input is refused whole, with a 400 problem naming the field; nothing is stored."""

from __future__ import annotations

import dataclasses

import pytest

from registry.app import create_app

VALID = {"host": "127.0.0.1", "port": 5001}

# (id, body, field the problem must name)
MALFORMED = [
    ("body_is_a_list", [VALID], "body"),
    ("body_is_a_string", "127.0.0.1:5001", "body"),
    ("host_missing", {"port": 5001}, "host"),
    ("host_empty", {**VALID, "host": ""}, "host"),
    ("host_not_a_string", {**VALID, "host": 127001}, "host"),
    ("host_with_whitespace", {**VALID, "host": "my host"}, "host"),
    ("host_too_long", {**VALID, "host": "h" * 254}, "host"),
    ("port_missing", {"host": "127.0.0.1"}, "port"),
    ("port_as_string", {**VALID, "port": "5001"}, "port"),
    ("port_as_bool", {**VALID, "port": True}, "port"),
    ("port_as_float", {**VALID, "port": 5001.5}, "port"),
    ("port_zero", {**VALID, "port": 0}, "port"),
    ("port_out_of_range", {**VALID, "port": 65536}, "port"),
    ("instance_id_with_slash", {**VALID, "instance_id": "a/b"}, "instance_id"),
    ("instance_id_too_long", {**VALID, "instance_id": "i" * 129}, "instance_id"),
    ("instance_id_not_a_string", {**VALID, "instance_id": 7}, "instance_id"),
    ("health_url_not_http", {**VALID, "health_url": "ftp://127.0.0.1/readyz"}, "health_url"),
    ("health_url_without_host", {**VALID, "health_url": "http:///readyz"}, "health_url"),
    ("health_url_too_long", {**VALID, "health_url": "http://h/" + "a" * 2048}, "health_url"),
    ("metadata_a_list", {**VALID, "metadata": ["v1"]}, "metadata"),
    ("metadata_value_not_a_string", {**VALID, "metadata": {"version": 2}}, "metadata"),
    ("metadata_value_too_long", {**VALID, "metadata": {"note": "n" * 513}}, "metadata"),
    ("metadata_key_too_long", {**VALID, "metadata": {"k" * 65: "v"}}, "metadata"),
    (
        "metadata_too_many_entries",
        {**VALID, "metadata": {f"k{i}": "v" for i in range(33)}},
        "metadata",
    ),
    (
        "metadata_larger_than_4_kib",
        {**VALID, "metadata": {f"k{i}": "v" * 200 for i in range(30)}},
        "metadata",
    ),
    ("unknown_field", {**VALID, "colour": "blue"}, "colour"),
]


@pytest.mark.parametrize(
    ("body", "field"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED]
)
def test_rejects_malformed_registration(client, auth, body, field):
    response = client.post("/v1/services/catalog/instances", json=body, headers=auth)

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert field in [error["field"] for error in problem["errors"]]
    assert problem["detail"].startswith(field)
    assert client.get("/v1/services").get_json() == {"services": {}}


@pytest.mark.parametrize(
    "name",
    ["Catalog", "1catalog", "-catalog", "cata_log", "c" * 64],
    ids=["uppercase", "leading_digit", "leading_dash", "underscore", "longer_than_63"],
)
def test_rejects_registration_with_a_bad_service_name(client, auth, name):
    response = client.post(f"/v1/services/{name}/instances", json=VALID, headers=auth)

    assert response.status_code == 400
    assert [error["field"] for error in response.get_json()["errors"]] == ["service"]
    assert client.get("/v1/services").get_json() == {"services": {}}


def test_accepts_a_service_name_of_63_characters(client, auth):
    response = client.post(f"/v1/services/{'c' * 63}/instances", json=VALID, headers=auth)

    assert response.status_code == 201


def test_rejects_read_of_a_bad_service_name(client):
    assert client.get("/v1/services/Not_A_Name").status_code == 400


def test_reports_every_bad_field_at_once(client, auth):
    body = {"host": "", "port": 0, "extra": 1}

    response = client.post("/v1/services/catalog/instances", json=body, headers=auth)

    fields = [error["field"] for error in response.get_json()["errors"]]
    assert fields == ["extra", "host", "port"]


def test_rejects_registration_that_is_not_json_with_415(client, auth):
    response = client.post(
        "/v1/services/catalog/instances",
        data="host=127.0.0.1&port=5001",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 415
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "data",
    ['{"host": ', "[" * 20_000 + "]" * 20_000],
    ids=["truncated", "nested_too_deep_to_parse"],
)
def test_rejects_registration_with_invalid_json(client, auth, data):
    response = client.post(
        "/v1/services/catalog/instances",
        data=data,
        headers={**auth, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert client.get("/v1/services").get_json() == {"services": {}}


def test_rejects_registration_larger_than_64_kib_with_413(client, auth):
    body = {**VALID, "metadata": {"padding": "x" * (64 * 1024)}}

    response = client.post("/v1/services/catalog/instances", json=body, headers=auth)

    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert client.get("/v1/services").get_json() == {"services": {}}


def test_null_optional_fields_count_as_absent(client, auth):
    body = {**VALID, "instance_id": None, "health_url": None, "metadata": None}

    response = client.post("/v1/services/catalog/instances", json=body, headers=auth)

    assert response.status_code == 201
    assert response.get_json()["instance_id"] == "catalog-127.0.0.1-5001"


@pytest.mark.parametrize(("value_length", "status"), [(56, 201), (57, 400)])
def test_metadata_may_be_as_large_as_the_setting_and_no_larger(
    settings, store, auth, value_length, status
):
    small = dataclasses.replace(settings, max_metadata_bytes=64)
    client = create_app(small, store=store).test_client()
    metadata = {"a": "x" * value_length}  # {"a":"x..."}: 8 bytes and the value

    response = client.post(
        "/v1/services/catalog/instances", json={**VALID, "metadata": metadata}, headers=auth
    )

    assert response.status_code == status
