import uuid

import pytest

from payments import authorising, voiding
from payments.config import Settings
from polyshop_common.db import transaction
from polyshop_common.testing import DEVELOPMENT_ENV


@pytest.fixture
def paid(conn, contracts):
    """Place a payment for `user`; returns the order id."""

    def pay(user="alice", total=2700):
        order_id = str(uuid.uuid4())
        data = {"order_id": order_id, "user": user, "total_cents": total, "currency": "EUR"}
        with transaction(conn):
            authorising.authorise(conn, contracts, data, 50000)
        return order_id

    return pay


def test_the_owner_lists_the_payment_of_an_order(client, auth, paid):
    order_id = paid()
    response = client.get(f"/payments?order_id={order_id}", headers=auth())
    assert response.status_code == 200
    assert [p["order_id"] for p in response.json] == [order_id]
    assert response.json[0]["status"] == "AUTHORIZED"


def test_a_voided_payment_shows_as_voided_with_its_reason(client, auth, conn, paid, contracts):
    order_id = paid()
    with transaction(conn):
        voiding.void(conn, contracts, order_id, "timed out")
    [payment] = client.get(f"/payments?order_id={order_id}", headers=auth()).json
    assert (payment["status"], payment["reason"]) == ("VOIDED", "order cancelled: timed out")
    assert client.get("/payments", headers=auth()).json == [payment]


def test_another_users_order_is_404(client, auth, paid):
    order_id = paid()
    assert client.get(f"/payments?order_id={order_id}", headers=auth("bob")).status_code == 404


def test_an_order_without_payment_yet_is_an_empty_list(client, auth):
    response = client.get(f"/payments?order_id={uuid.uuid4()}", headers=auth())
    assert (response.status_code, response.json) == (200, [])


def test_without_order_id_a_user_sees_only_their_own(client, auth, paid):
    mine, _theirs = paid("alice"), paid("bob")
    assert [p["order_id"] for p in client.get("/payments", headers=auth()).json] == [mine]


def test_a_service_reads_any_payment(client, auth, paid):
    order_id = paid("bob")
    response = client.get(f"/payments?order_id={order_id}", headers=auth("service:gateway"))
    assert len(response.json) == 1


def test_without_a_token_then_401_problem(client):
    response = client.get("/payments")
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def test_readyz_waits_for_registration_consumer_and_relay(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {
        "database": True,
        "registered": False,
        "outbox_relay": False,
        "consumer": False,
    }


def test_the_decline_limit_comes_from_the_environment():
    assert (
        Settings.from_env(
            DEVELOPMENT_ENV | {"PAYMENTS_DECLINE_OVER_CENTS": "10"}
        ).decline_over_cents
        == 10
    )
    assert Settings.from_env(DEVELOPMENT_ENV).decline_over_cents == 50000
