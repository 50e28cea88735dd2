"""The security table: each row a test, each answered with a problem and no data.

alice attacks; bob's finished order (with its payment and notification) is
what she must never reach. Every service is tried through the gateway and
on its own port, where the gateway's checks do not stand in front of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote

import pytest
import requests

from polyshop_common.signing import SigningKey
from support.hostile import (
    SQL_INJECTIONS,
    Door,
    Secrets,
    assert_problem,
    problem_failures,
    sign,
    unsigned,
    with_flipped_signature,
    with_payload,
)

DOORS = ["gateway", "direct"]

# Where bob's things are, per service: (service, path) for bob's order id.
BOBS_THINGS = {
    "order": ("orders", "/orders/{id}"),
    "payments": ("payments", "/payments?order_id={id}"),
    "notifications": ("notifications", "/notifications?order_id={id}"),
}
# A protected read of each service that needs a user (bob's order id where it takes one).
PROTECTED = {**BOBS_THINGS, "stock": ("inventory", "/stock")}


def bad_token(kind: str, alice_token: str, key: SigningKey, issuer: str) -> str:
    """A token no door may accept, of the given kind. Most are signed with
    the shop's real key: what makes them bad is what they claim."""
    now = int(time.time())
    alice = {"iss": issuer, "sub": "alice", "aud": "polyshop", "iat": now, "exp": now + 600}
    return {
        "alg none": lambda: unsigned(alice),
        "expired": lambda: key.sign(alice | {"iat": now - 7200, "exp": now - 3600}),
        "wrong key": lambda: sign(alice, SigningKey.generate()),
        "tampered payload": lambda: with_payload(alice_token, {**alice, "sub": "bob"}),
        "tampered signature": lambda: with_flipped_signature(alice_token),
        "three years": lambda: key.sign(alice | {"exp": now + 3 * 365 * 86400}),
        "another issuer": lambda: key.sign(alice | {"iss": "http://evil.example"}),
        "no audience": lambda: key.sign({k: v for k, v in alice.items() if k != "aud"}),
        "a user claiming to be a service": lambda: key.sign(alice | {"sub": "service:anything"}),
        "a service token for another service": lambda: key.sign(
            alice | {"sub": "service:notifications", "aud": "service:catalog", "exp": now + 60}
        ),
    }[kind]()


def url_of(shop, door_name: str, service: str, path: str) -> str:
    if door_name == "gateway":
        return f"{shop.gateway}/api{path}"
    return f"http://127.0.0.1:{dict(shop.ports.services)[service]}{path}"


# -- forged identity headers ------------------------------------------------


@pytest.mark.parametrize("thing", BOBS_THINGS)
@pytest.mark.parametrize("door_name", DOORS)
@pytest.mark.parametrize("header", ["X-User", "x-user", "X-User-Id"])
def test_a_forged_user_header_does_not_make_alice_bob(
    http, doors, bob_order, door_name, thing, header
):
    door: Door = doors[door_name]
    service, path = BOBS_THINGS[thing]
    response = http.get(
        door.url(service, path.format(id=bob_order["id"])),
        headers={**door.auth, header: "bob"},
        timeout=10,
    )
    assert_problem(response, 404)


def test_a_forged_user_header_does_not_open_bobs_order_details(http, alice, bob_order):
    response = alice.get(f"/api/orders/{bob_order['id']}/details", headers={"X-User": "bob"})
    assert_problem(response, 404)


# -- tokens that must not verify --------------------------------------------

BAD_TOKENS = [
    "alg none",
    "expired",
    "wrong key",
    "tampered payload",
    "tampered signature",
    "three years",
    "another issuer",
    "no audience",
    "a user claiming to be a service",
    "a service token for another service",
]


@pytest.mark.parametrize("target", ["gateway", *PROTECTED])
@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_a_bad_jwt_is_refused_with_401(
    http, shop, alice_token, shop_secrets: Secrets, bob_order, kind, target
):
    """`gateway` asks the gateway for bob's order; the others ask each
    service's own port directly, with no gateway in front."""
    if target == "gateway":
        url = f"{shop.gateway}/api/orders/{bob_order['id']}"
    else:
        service, path = PROTECTED[target]
        url = url_of(shop, "direct", service, path.format(id=bob_order["id"]))
    token = bad_token(kind, alice_token, shop_secrets.signing_key(), shop.gateway)
    response = http.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response.headers


# -- the registry's writes --------------------------------------------------

# The Authorization header of each attempt, made from a token of alice's.
REGISTRY_AUTH: dict[str, Callable[[str], str | None]] = {
    "no token": lambda _jwt: None,
    "wrong token": lambda _jwt: "Bearer not-the-registry-token",
    "empty bearer": lambda _jwt: "Bearer ",
    "basic scheme": lambda _jwt: "Basic cG9seXNob3A6cG9seXNob3A=",
    "a user's jwt": lambda jwt: f"Bearer {jwt}",
}


def registry_writes(registry: str, instance_id: str) -> dict[str, Callable[..., requests.Response]]:
    base = f"{registry}/v1/services/orders/instances"
    return {
        "register": lambda http, headers: http.post(
            base, json={"host": "127.0.0.1", "port": 9, "instance_id": "intruder"}, headers=headers
        ),
        "heartbeat": lambda http, headers: http.put(
            f"{base}/{instance_id}/heartbeat", headers=headers
        ),
        "deregister": lambda http, headers: http.delete(f"{base}/{instance_id}", headers=headers),
    }


@pytest.mark.parametrize("auth", REGISTRY_AUTH)
@pytest.mark.parametrize("write", ["register", "heartbeat", "deregister"])
def test_a_registry_write_without_the_registry_token_is_refused_with_401(
    http, shop, alice_token, write, auth
):
    registry = f"http://127.0.0.1:{shop.ports.registry}"
    before = http.get(f"{registry}/v1/services/orders", timeout=5).json()["instances"]
    value = REGISTRY_AUTH[auth](alice_token)
    headers = {} if value is None else {"Authorization": value}

    response = registry_writes(registry, before[0]["instance_id"])[write](http, headers)

    assert_problem(response, 401)
    after = http.get(f"{registry}/v1/services/orders", timeout=5).json()["instances"]
    assert [i["instance_id"] for i in after] == [i["instance_id"] for i in before]


@pytest.mark.parametrize("write", ["register over", "heartbeat", "deregister", "elsewhere"])
def test_one_services_registry_credential_cannot_touch_another_services_instances(
    http, shop, shop_secrets: Secrets, write
):
    """catalog's own credential, stolen, against orders' live instance."""
    registry = f"http://127.0.0.1:{shop.ports.registry}"
    before = http.get(f"{registry}/v1/services/orders", timeout=5).json()["instances"]
    victim = before[0]["instance_id"]
    headers = {"Authorization": f"Bearer {shop_secrets.registry_token('catalog')}"}
    base = f"{registry}/v1/services/orders/instances"
    response = {
        "register over": lambda: http.post(
            base,
            json={"instance_id": victim, "host": "169.254.169.254", "port": 80},
            headers=headers,
        ),
        "heartbeat": lambda: http.put(f"{base}/{victim}/heartbeat", headers=headers),
        "deregister": lambda: http.delete(f"{base}/{victim}", headers=headers),
        "elsewhere": lambda: http.post(
            base, json={"host": "127.0.0.1", "port": 9}, headers=headers
        ),
    }[write]()

    assert_problem(response, 403)
    after = http.get(f"{registry}/v1/services/orders", timeout=5).json()["instances"]
    assert [(i["instance_id"], i["host"]) for i in after] == [
        (i["instance_id"], i["host"]) for i in before
    ]


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "user@evil.com", "evil.com/x?", "evil.com:80", "0.0.0.0"]
)
def test_the_registry_refuses_hosts_that_are_not_a_plain_host(http, shop, shop_secrets, host):
    registry = f"http://127.0.0.1:{shop.ports.registry}"
    response = http.post(
        f"{registry}/v1/services/hostile/instances",
        json={"host": host, "port": 80},
        headers={"Authorization": f"Bearer {shop_secrets.registry_token('hostile')}"},
        timeout=5,
    )
    assert_problem(response, 400)
    assert "hostile" not in http.get(f"{registry}/v1/services", timeout=5).json()["services"]


# -- a service's own port, past the gateway ---------------------------------

NO_VALID_JWT = {
    "no token": None,
    "garbage token": "Bearer not.a.jwt",
    "empty bearer": "Bearer ",
    "token in another scheme": "Token {valid}",
}


@pytest.mark.parametrize("auth", NO_VALID_JWT)
@pytest.mark.parametrize(
    ("service", "method", "path"),
    [
        ("orders", "GET", "/orders/{id}"),
        ("orders", "POST", "/orders"),
        ("payments", "GET", "/payments?order_id={id}"),
        ("payments", "GET", "/payments"),
        ("notifications", "GET", "/notifications?order_id={id}"),
        ("notifications", "GET", "/notifications"),
        ("inventory", "GET", "/stock"),
        ("inventory", "GET", "/stock/FILTER-PAPERS"),
    ],
)
def test_a_service_port_does_not_take_x_user_for_an_identity(
    http, shop, alice_token, bob_order, service, method, path, auth
):
    headers = {"X-User": "bob", "X-Forwarded-User": "bob"}
    if NO_VALID_JWT[auth] is not None:
        headers["Authorization"] = NO_VALID_JWT[auth].format(valid=alice_token)
    response = http.request(
        method,
        url_of(shop, "direct", service, path.format(id=bob_order["id"])),
        json={"items": [{"sku": "FILTER-PAPERS", "quantity": 1}]} if method == "POST" else None,
        headers=headers,
        timeout=10,
    )
    assert_problem(response, 401)


# -- secrets where they do not belong -----------------------------------------


@pytest.mark.parametrize("target", ["gateway", *PROTECTED])
def test_a_token_sent_in_the_query_string_is_answered_without_a_server_error(
    http, shop, alice_token, target
):
    """Some clients put the token in the URL; the log check at the end makes
    sure no piece writes it down."""
    if target == "gateway":
        url = f"{shop.gateway}/api/stock"
    else:
        service, path = PROTECTED[target]
        url = url_of(shop, "direct", service, path.format(id="x").split("?")[0])
    response = http.get(url, params={"access_token": alice_token, "token": alice_token}, timeout=10)
    assert not problem_failures(response), problem_failures(response)


# -- SQL injection in every parameter ---------------------------------------

# (service, method, path template, where the string goes): `{value}` is it.
INJECTION_POINTS = {
    "catalog sku": ("catalog", "GET", "/products/{value}", None),
    "stock sku": ("inventory", "GET", "/stock/{value}", None),
    "order id": ("orders", "GET", "/orders/{value}", None),
    "payments order_id": ("payments", "GET", "/payments?order_id={value}", None),
    "notifications order_id": ("notifications", "GET", "/notifications?order_id={value}", None),
    "notifications limit": ("notifications", "GET", "/notifications?limit={value}", None),
    "order sku": ("orders", "POST", "/orders", "sku"),
    "order quantity": ("orders", "POST", "/orders", "quantity"),
    "order extra field": ("orders", "POST", "/orders", "note"),
    "idempotency key": ("orders", "POST", "/orders", "Idempotency-Key"),
}


def inject(door: Door, http, point: str, value: str) -> requests.Response:
    service, method, path, field = INJECTION_POINTS[point]
    url = door.url(service, path.format(value=quote(value, safe="")))
    headers = dict(door.auth)
    if method == "GET":
        return http.get(url, headers=headers, timeout=10)
    line: dict = {"sku": "FILTER-PAPERS", "quantity": 1}
    body: dict = {"items": [line]}
    if field == "Idempotency-Key":
        headers[field] = value
    elif field == "note":
        body[field] = value
    else:
        line[field] = value
    return http.post(url, json=body, headers=headers, timeout=10)


def others_data(response: requests.Response, bob_order_id: str) -> list:
    """What in a successful answer is not alice's."""
    if bob_order_id in response.text:
        return [bob_order_id]
    body = response.json()
    records = body if isinstance(body, list) else [body]
    return [r for r in records if isinstance(r, dict) and r.get("user", "alice") != "alice"]


@pytest.mark.parametrize("value", SQL_INJECTIONS)
@pytest.mark.parametrize("point", INJECTION_POINTS)
@pytest.mark.parametrize("door_name", DOORS)
def test_sql_injection_gets_no_server_error_and_no_one_elses_data(
    http, doors, bob_order, door_name, point, value
):
    response = inject(doors[door_name], http, point, value)
    assert not problem_failures(response), problem_failures(response)
    if response.status_code < 400:
        assert not others_data(response, bob_order["id"])


def test_after_the_injections_every_table_still_answers(http, alice, bob, bob_order):
    placed = alice.place_order([{"sku": "FILTER-PAPERS", "quantity": 1}])
    assert placed.status_code == 202, placed.text
    assert alice.order(placed.json()["id"])["user"] == "alice"
    assert bob.order(bob_order["id"])["status"] == bob_order["status"]
    assert len(alice.get("/api/products").json()) >= 10
    assert alice.stock("FILTER-PAPERS")["available"] >= 0
    assert bob.get(f"/api/notifications?order_id={bob_order['id']}").json()
    assert bob.get(f"/api/payments?order_id={bob_order['id']}").status_code == 200


# -- service tokens -----------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "secret_of", "audience", "status"),
    [
        ("notifications", "notifications", "orders", 200),
        ("notifications", "notifications", "payments", 403),
        ("notifications", "storefront", "orders", 401),
        ("catalog", "notifications", "orders", 401),
    ],
    ids=["its own callee", "another callee", "another's secret", "a service with no secret"],
)
def test_the_gateway_gives_a_service_token_only_for_the_callees_its_client_may_call(
    http, shop, shop_secrets: Secrets, client, secret_of, audience, status
):
    secret = (shop_secrets.folder / secret_of / "client-secret").read_text().strip()
    response = http.post(
        f"{shop.gateway}/oauth/token",
        data={"grant_type": "client_credentials", "audience": audience},
        auth=(client, secret),
        timeout=10,
    )
    if status != 200:
        assert_problem(response, status)
        return
    token = response.json()["access_token"]
    orders = f"http://127.0.0.1:{dict(shop.ports.services)['orders']}"
    # Made out to orders: orders takes it; payments and the gateway do not.
    answer = http.get(f"{orders}/orders/no-such-order", headers=bearer(token), timeout=10)
    assert answer.status_code in (400, 404), answer.text  # past the token check
    payments = f"http://127.0.0.1:{dict(shop.ports.services)['payments']}/payments"
    assert_problem(http.get(payments, headers=bearer(token), timeout=10), 401)
    assert_problem(http.get(f"{shop.gateway}/api/orders", headers=bearer(token), timeout=10), 401)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
