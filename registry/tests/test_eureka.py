"""Eureka's REST API: Eureka's shapes and status codes over the same store as /v1."""

from __future__ import annotations

import base64
import gzip
import json
import xml.etree.ElementTree as ElementTree

import pytest

from .tokens import CREDENTIALS

JSON = {"Accept": "application/json"}


def basic(credential: str, token: str | None = None) -> dict[str, str]:
    """HTTP Basic as a Eureka client sends it: the credential's name and token."""
    token = token or CREDENTIALS[credential][0]
    encoded = base64.b64encode(f"{credential}:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def eureka_instance(app: str = "CATALOG", instance_id: str = "cat-1", **extra) -> dict:
    """A registration as Spring Cloud's Eureka client sends it (the fields it reads here)."""
    return {
        "instance": {
            "instanceId": instance_id,
            "hostName": "127.0.0.1",
            "app": app,
            "ipAddr": "127.0.0.1",
            "status": "UP",
            "port": {"$": 7001, "@enabled": "true"},
            "securePort": {"$": 443, "@enabled": "false"},
            "dataCenterInfo": {
                "@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
                "name": "MyOwn",
            },
            "leaseInfo": {"renewalIntervalInSecs": 10, "durationInSecs": 30},
            "metadata": {"@class": "java.util.Collections$EmptyMap", "zone": "a"},
            "healthCheckUrl": "http://127.0.0.1:7001/actuator/health",
            "vipAddress": app.lower(),
            **extra,
        }
    }


@pytest.fixture
def eureka_register(client):
    def post(app: str = "CATALOG", instance_id: str = "cat-1", credential="shop", **extra):
        body = eureka_instance(app, instance_id, **extra)
        return client.post(f"/eureka/apps/{app}", json=body, headers=basic(credential))

    return post


def apps_of(body: dict) -> dict[str, dict]:
    """{instanceId: instance} of an `applications` document."""
    return {
        instance["instanceId"]: instance
        for application in body["applications"]["application"]
        for instance in application["instance"]
    }


def test_a_eureka_registration_is_read_by_v1_clients(client, eureka_register):
    assert eureka_register().status_code == 204  # Eureka's clients expect 204

    [instance] = client.get("/v1/services/catalog").get_json()["instances"]
    assert (instance["instance_id"], instance["host"], instance["port"]) == (
        "cat-1",
        "127.0.0.1",
        7001,
    )
    assert instance["health_url"] == "http://127.0.0.1:7001/actuator/health"
    assert instance["metadata"] == {"zone": "a"}  # Java's "@class" marker is not metadata


def test_a_v1_registration_is_read_by_eureka_clients_in_json(client, register):
    assert register("orders", instance_id="orders-1", port=5002).status_code == 201

    body = client.get("/eureka/apps/", headers=JSON).get_json()

    assert body["applications"]["apps__hashcode"] == "UP_1_"
    [application] = body["applications"]["application"]
    assert application["name"] == "ORDERS"
    [instance] = application["instance"]
    assert instance["instanceId"] == "orders-1"
    assert instance["port"] == {"$": 5002, "@enabled": "true"}
    assert (instance["status"], instance["vipAddress"]) == ("UP", "orders")
    assert instance["leaseInfo"]["durationInSecs"] == 15  # the registry's own lease


def test_reads_are_xml_unless_json_is_asked_for(client, register):
    assert register("orders", instance_id="orders-1", port=5002).status_code == 201

    for path in ("/eureka/apps", "/eureka/apps/"):  # clients ask for both
        answer = client.get(path)
        assert answer.mimetype == "application/xml"
        root = ElementTree.fromstring(answer.data)
        assert root.tag == "applications"
        assert root.findtext("apps__hashcode") == "UP_1_"
        port = root.find("application/instance/port")
        assert (port.text, port.get("enabled")) == ("5002", "true")
        assert root.find("application/instance/dataCenterInfo").get("class").endswith("Info")


def test_an_xml_registration_is_taken_like_json(client):
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
    <instance><instanceId>pay-1</instanceId><hostName>127.0.0.1</hostName><app>PAYMENTS</app>
    <ipAddr>127.0.0.1</ipAddr><status>UP</status><port enabled="true">7003</port>
    <leaseInfo><durationInSecs>40</durationInSecs></leaseInfo>
    <metadata class="java.util.Collections$EmptyMap"/></instance>"""
    headers = {**basic("shop"), "Content-Type": "application/xml"}

    assert client.post("/eureka/apps/PAYMENTS", data=body, headers=headers).status_code == 204

    instance = client.get("/eureka/apps/PAYMENTS/pay-1", headers=JSON).get_json()["instance"]
    assert (instance["port"]["$"], instance["leaseInfo"]["durationInSecs"]) == (7003, 40)


def test_xml_with_entities_is_refused_whole(client):
    body = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>
    <instance><instanceId>&a;</instanceId></instance>"""
    headers = {**basic("shop"), "Content-Type": "application/xml"}

    answer = client.post("/eureka/apps/PAYMENTS", data=body, headers=headers)

    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    assert client.get("/v1/services").get_json()["services"] == {}


def test_the_lease_asked_for_is_kept_and_renewed(client, eureka_register, store, clock):
    assert eureka_register(leaseInfo={"durationInSecs": 30}).status_code == 204
    clock.advance(20)  # past the registry's own 15 s lease
    store.evict_expired()
    assert client.put("/eureka/apps/CATALOG/cat-1", headers=basic("shop")).status_code == 200

    clock.advance(29)
    store.evict_expired()
    assert store.instance("catalog", "cat-1") is not None
    clock.advance(2)
    store.evict_expired()
    assert store.instance("catalog", "cat-1") is None


def test_a_lease_longer_than_ninety_seconds_is_cut_to_ninety(client, eureka_register):
    assert eureka_register(leaseInfo={"durationInSecs": 3600}).status_code == 204

    instance = client.get("/eureka/apps/CATALOG/cat-1", headers=JSON).get_json()["instance"]
    assert instance["leaseInfo"]["durationInSecs"] == 90


def test_renewing_or_cancelling_an_unknown_instance_is_404_so_the_client_registers(client):
    for method in (client.put, client.delete):
        answer = method("/eureka/apps/CATALOG/nobody", headers=basic("shop"))
        assert answer.status_code == 404
        assert answer.mimetype == "application/problem+json"


def test_cancel_answers_200_and_the_instance_is_gone(client, eureka_register):
    assert eureka_register().status_code == 204

    assert client.delete("/eureka/apps/CATALOG/cat-1", headers=basic("shop")).status_code == 200
    assert client.get("/v1/services").get_json()["services"] == {}


@pytest.mark.parametrize("status", ["DOWN", "STARTING", "OUT_OF_SERVICE"])
def test_an_instance_not_up_is_not_listed(client, eureka_register, status):
    assert eureka_register().status_code == 204

    assert eureka_register(status=status).status_code == 204
    assert client.get("/v1/services").get_json()["services"] == {}


def test_a_status_change_away_from_up_takes_the_instance_out(client, eureka_register):
    assert eureka_register().status_code == 204
    url = "/eureka/apps/CATALOG/cat-1/status?value=OUT_OF_SERVICE"

    assert client.put(url, headers=basic("shop")).status_code == 200
    assert client.get("/eureka/apps/CATALOG", headers=JSON).status_code == 404


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (basic("shop", token="wrong"), 401),
        (basic("rival", token=CREDENTIALS["shop"][0]), 401),  # another's name with this token
        ({"Authorization": "Basic not-base64!"}, 401),
        (basic("orders"), 403),  # a credential that may not write catalog
    ],
)
def test_writes_need_a_credential_that_may_write_the_service(client, headers, status):
    answer = client.post("/eureka/apps/CATALOG", json=eureka_instance(), headers=headers)

    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"


def test_an_app_name_that_is_no_service_name_is_refused(client):
    body = eureka_instance("MY_APP")
    answer = client.post("/eureka/apps/MY_APP", json=body, headers=basic("shop"))

    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"


def test_a_body_naming_another_app_is_refused(client):
    answer = client.post(
        "/eureka/apps/CATALOG", json=eureka_instance("ORDERS"), headers=basic("shop")
    )

    assert answer.status_code == 400


def test_a_delta_applied_to_a_whole_read_gives_the_next_whole_read(client, eureka_register):
    for number in range(3):
        assert eureka_register(instance_id=f"cat-{number}").status_code == 204
    whole = apps_of(client.get("/eureka/apps/", headers=JSON).get_json())

    assert eureka_register(instance_id="cat-3").status_code == 204
    assert client.delete("/eureka/apps/CATALOG/cat-0", headers=basic("shop")).status_code == 200
    delta = client.get("/eureka/apps/delta", headers=JSON).get_json()
    after = client.get("/eureka/apps/", headers=JSON).get_json()

    for instance in apps_of(delta).values():  # as a client merges it
        if instance["actionType"] == "DELETED":
            whole.pop(instance["instanceId"], None)
        else:
            whole[instance["instanceId"]] = instance
    assert sorted(whole) == sorted(apps_of(after)) == ["cat-1", "cat-2", "cat-3"]
    assert delta["applications"]["apps__hashcode"] == "UP_3_"
    deleted = apps_of(delta)["cat-0"]
    assert (deleted["hostName"], deleted["port"]["$"]) == ("127.0.0.1", 7001)  # found by these


def test_a_delta_reaches_back_three_minutes(client, eureka_register, clock):
    assert eureka_register(instance_id="cat-old").status_code == 204
    clock.advance(181)
    assert eureka_register(instance_id="cat-new").status_code == 204

    delta = client.get("/eureka/apps/delta", headers=JSON).get_json()

    assert sorted(apps_of(delta)) == ["cat-new"]


def test_gzip_and_identity_bodies_are_the_same_registry(client, register):
    for number in range(30):
        assert register("catalog", instance_id=f"catalog-{number}").status_code == 201

    for accept in ("application/json", "application/xml"):
        plain = client.get("/eureka/apps/", headers={"Accept": accept})
        zipped = client.get("/eureka/apps/", headers={"Accept": accept, "Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped.data) == plain.data


def test_a_read_after_a_change_shows_it(client, eureka_register):
    assert client.get("/eureka/apps/", headers=JSON).get_json()["applications"]["application"] == []

    assert eureka_register().status_code == 204

    assert "cat-1" in apps_of(client.get("/eureka/apps/", headers=JSON).get_json())
    assert json.loads(client.get("/eureka/apps/CATALOG", headers=JSON).data)["application"]
    assert client.get("/eureka/instances/cat-1", headers=JSON).status_code == 200
