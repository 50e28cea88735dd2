"""A registered host is a host name or an IP address, never one no service
lives at, and inside the allowed networks when there are some."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from registry.app import create_app
from registry.hosts import HostPolicy

# What the tests' resolver answers; any other name does not resolve.
NAMES = {
    "catalog.internal": ["10.0.0.7"],
    "dual.internal": ["10.0.0.8", "fd00::8"],
    "metadata.evil.example": ["169.254.169.254"],
    "mapped.evil.example": ["::ffff:169.254.169.254"],
    "half-outside.example": ["10.0.0.9", "203.0.113.9"],
}


def resolve(name: str) -> list[str]:
    return NAMES.get(name, [])


NOT_A_HOST = [
    "user@evil.com",
    "evil.com/x?",
    "evil.com?x",
    "evil.com#x",
    "host:80",
    "127.0.0.1:80",
    "[::1]",
    "http://evil.com",
    "evil.com.",
    "-evil.com",
    "evil-.com",
    "evil..com",
    "ev il.com",
    "evil.com\n",
    "évil.com",
    "under_score.com",
    "fe80::1%eth0",
    "a" * 64 + ".com",
    ".".join(["a" * 63] * 4),
]
NEVER_A_SERVICE = [
    "169.254.169.254",
    "169.254.0.1",
    "fe80::1",
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "239.255.255.250",
    "ff02::1",
    "255.255.255.255",
    "::ffff:169.254.169.254",
]
OTHER_IPV4_SPELLINGS = ["2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518", "10.1"]


@pytest.mark.parametrize("host", NOT_A_HOST)
def test_refuses_what_is_not_a_host_name_or_an_ip_address(host):
    assert HostPolicy(resolve=resolve).check(host)


@pytest.mark.parametrize("host", NEVER_A_SERVICE)
def test_refuses_addresses_no_service_lives_at(host):
    assert "link-local" in HostPolicy(resolve=resolve).check(host)


@pytest.mark.parametrize("host", OTHER_IPV4_SPELLINGS)
def test_refuses_the_other_spellings_of_ipv4(host):
    assert "four decimal numbers" in HostPolicy(resolve=resolve).check(host)


@pytest.mark.parametrize("host", ["metadata.evil.example", "mapped.evil.example"])
def test_refuses_a_name_that_resolves_to_an_address_no_service_lives_at(host):
    assert "169.254.169.254" in HostPolicy(resolve=resolve).check(host)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "10.0.0.7", "::1", "fd00::7", "catalog", "catalog.internal", "unknown.internal"],
)
def test_accepts_host_names_and_addresses(host):
    assert HostPolicy(resolve=resolve).check(host) is None


NETWORKS = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


@pytest.mark.parametrize("host", ["10.0.0.7", "fd00::7", "catalog.internal", "dual.internal"])
def test_with_allowed_networks_accepts_what_is_inside_them(host):
    assert HostPolicy(NETWORKS, resolve).check(host) is None


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "192.168.1.1", "::1", "half-outside.example", "unknown.internal"],
)
def test_with_allowed_networks_refuses_what_is_not_all_inside_them(host):
    assert "networks this registry allows" in HostPolicy(NETWORKS, resolve).check(host)


def test_a_name_is_checked_by_the_real_resolver_by_default():
    assert HostPolicy((ipaddress.ip_network("10.0.0.0/8"),)).check("localhost")


@pytest.fixture
def app(settings, store):
    return create_app(settings, store=store, resolve=resolve)


def register(client, auth, **fields):
    body = {"host": "127.0.0.1", "port": 5001, **fields}
    return client.post("/v1/services/catalog/instances", json=body, headers=auth)


@pytest.mark.parametrize(
    "host",
    ["user@evil.com", "evil.com/x?", "169.254.169.254", "host:80", "metadata.evil.example"],
)
def test_registration_with_such_a_host_is_400_and_nothing_is_stored(client, auth, host):
    response = register(client, auth, host=host, instance_id="catalog-a")

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert [error["field"] for error in response.get_json()["errors"]] == ["host"]
    assert client.get("/v1/services").get_json() == {"services": {}}


def test_a_known_instance_cannot_move_to_such_a_host(client, auth):
    register(client, auth, instance_id="catalog-a")

    response = register(client, auth, instance_id="catalog-a", host="169.254.169.254")

    assert response.status_code == 400
    [instance] = client.get("/v1/services/catalog").get_json()["instances"]
    assert instance["host"] == "127.0.0.1"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.evil.example/readyz",
        "http://user@catalog.internal/readyz",
        "http://[fe80::1]/readyz",
    ],
)
def test_registration_with_such_a_health_url_is_400(client, auth, url):
    response = register(client, auth, health_url=url)

    assert response.status_code == 400
    assert [error["field"] for error in response.get_json()["errors"]] == ["health_url"]


def test_with_allowed_networks_a_registration_outside_them_is_400(settings, store, auth):
    narrow = dataclasses.replace(settings, allowed_networks=NETWORKS)
    client = create_app(narrow, store=store, resolve=resolve).test_client()

    outside = register(client, auth, host="127.0.0.1")
    inside = register(client, auth, host="catalog.internal")

    assert outside.status_code == 400
    assert inside.status_code == 201
