import pytest

ORDER = {"items": [{"sku": "TEA-EARL-GREY", "quantity": 2}]}


def place(client, auth, body=ORDER, user="alice", **headers):
    return client.post("/orders", json=body, headers=auth(user) | headers)


def count_orders(conn):
    return conn.execute("SELECT count(*) FROM orders").fetchone()[0]


def test_placing_an_order_answers_202_with_the_order_and_its_location(client, auth):
    response = place(client, auth, **{"X-Forwarded-Prefix": "/api"})
    assert response.status_code == 202
    assert response.json["status"] == "PENDING"
    assert response.json["total_cents"] == 1300
    assert response.headers["Location"] == f"/api/orders/{response.json['id']}"


def test_the_owner_reads_the_order(client, auth):
    order = place(client, auth).json
    response = client.get(f"/orders/{order['id']}", headers=auth())
    assert response.status_code == 200
    assert response.json["items"] == [{"sku": "TEA-EARL-GREY", "quantity": 2, "price_cents": 650}]
    assert "reason" not in response.json


def test_another_user_gets_404_and_a_service_may_read_it(client, auth):
    order = place(client, auth).json
    assert client.get(f"/orders/{order['id']}", headers=auth("bob")).status_code == 404
    as_service = client.get(f"/orders/{order['id']}", headers=auth("service:notifications"))
    assert as_service.status_code == 200


def test_an_unknown_order_is_404(client, auth):
    assert client.get("/orders/nope", headers=auth()).status_code == 404


def test_a_user_lists_only_their_own_orders_newest_first(client, auth):
    first = place(client, auth).json
    place(client, auth, user="bob")
    second = place(client, auth, {"items": [{"sku": "TEA-SENCHA", "quantity": 1}]}).json
    response = client.get("/orders", headers=auth())
    assert response.status_code == 200
    assert [order["id"] for order in response.json] == [second["id"], first["id"]]
    one = client.get(f"/orders/{first['id']}", headers=auth()).json
    assert response.json[1] == one  # the same shape as GET /orders/{id}


def test_a_user_without_orders_gets_an_empty_list(client, auth):
    place(client, auth)
    assert client.get("/orders", headers=auth("bob")).json == []


def test_the_list_holds_20_orders_unless_a_limit_says_otherwise(client, auth):
    placed = [place(client, auth).json["id"] for _ in range(21)]
    newest_first = placed[::-1]
    assert [o["id"] for o in client.get("/orders", headers=auth()).json] == newest_first[:20]
    limited = client.get("/orders?limit=3", headers=auth()).json
    assert [o["id"] for o in limited] == newest_first[:3]
    everything = client.get("/orders?limit=100", headers=auth()).json
    assert [o["id"] for o in everything] == newest_first


@pytest.mark.parametrize("limit", ["0", "101", "-1", "", "abc", "1.5", " 5", "+5", "1_0", "\u0665"])
def test_a_bad_limit_is_a_400_problem_naming_it(client, auth, limit):
    response = client.get("/orders", query_string={"limit": limit}, headers=auth())
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert [error["field"] for error in response.json["errors"]] == ["limit"]


def test_a_service_may_not_list_orders(client, auth):
    place(client, auth)
    response = client.get("/orders", headers=auth("service:notifications"))
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"


def test_listing_a_users_orders_uses_the_index(conn):
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM orders WHERE user = ?"
        " ORDER BY created_at DESC, rowid DESC LIMIT ?",
        ("alice", 20),
    ).fetchall()
    details = " ".join(row["detail"] for row in plan)
    assert "USING INDEX orders_by_user" in details
    assert "TEMP B-TREE" not in details  # the index gives the order: no sort step


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/orders"), ("get", "/orders"), ("get", "/orders/x")]
)
def test_without_a_token_then_401(client, method, path):
    response = getattr(client, method)(path, json=ORDER)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b'{"items": []}',
        b'{"items": [{"sku": "TEA-EARL-GREY", "quantity": 0}]}',
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser goes
    ],
    ids=["malformed", "empty", "no_items", "quantity_0", "nested_too_deep"],
)
def test_rejects_a_bad_body_with_400_and_stores_nothing(client, auth, conn, body):
    response = client.post("/orders", data=body, headers=auth())
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert count_orders(conn) == 0


def test_rejects_a_body_over_one_mebibyte_with_413_and_stores_nothing(client, auth, conn):
    body = b'{"items": [{"sku": "' + b"A" * 1024 * 1024 + b'", "quantity": 1}]}'
    response = client.post("/orders", data=body, headers=auth())
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert count_orders(conn) == 0


def test_rejects_order_with_unknown_sku_naming_it(client, auth, conn):
    response = place(client, auth, {"items": [{"sku": "NOPE", "quantity": 1}]})
    assert response.status_code == 400
    assert response.json["skus"] == ["NOPE"]
    assert count_orders(conn) == 0


def test_an_order_its_event_cannot_describe_is_422_and_nothing_is_stored(client, auth, conn):
    response = place(client, auth, user="u" * 65)  # the contract's users have 64 characters
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "order.created: /data/user" in response.json["detail"]
    assert count_orders(conn) == 0
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_when_the_catalog_is_unreachable_then_503_and_nothing_stored(client, auth, conn, prices):
    prices.down = True
    assert place(client, auth).status_code == 503
    assert count_orders(conn) == 0


def test_the_same_idempotency_key_and_body_give_the_same_order(client, auth, conn, prices):
    first = place(client, auth, **{"Idempotency-Key": "k-1"})
    again = place(client, auth, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 202
    assert again.json["id"] == first.json["id"]
    assert count_orders(conn) == 1
    assert prices.calls == 1  # a replay needs no catalog


def test_the_same_idempotency_key_with_another_body_is_409(client, auth):
    place(client, auth, **{"Idempotency-Key": "k-1"})
    other = {"items": [{"sku": "TEA-EARL-GREY", "quantity": 3}]}
    response = place(client, auth, other, **{"Idempotency-Key": "k-1"})
    assert response.status_code == 409


def test_a_bad_idempotency_key_is_400(client, auth):
    assert place(client, auth, **{"Idempotency-Key": "two words"}).status_code == 400


def test_readyz_lists_what_is_not_running(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {
        "database": True,
        "registered": False,
        "discovery": False,
        "outbox_relay": False,
        "consumer": False,
        "saga_timeouts": False,
    }
