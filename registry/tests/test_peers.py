"""Replication between registries (peers.py, peer_api.py): what a peer sends
is applied and told to nobody; what clients write is noted for every peer,
each instance once; the peer API takes only the peers' token."""

from __future__ import annotations

import dataclasses

import pytest

from registry.app import create_app
from registry.models import Registration
from registry.peer_api import PEERS_EXTENSION
from registry.peers import NODE_HEADER, Peer, Peers, apply_writes, instance_wire

from .conftest import TTL

TOKEN = "peers-share-this-token-of-thirty-two-bytes"
PEER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, peer_token=TOKEN)


def registration(instance_id: str = "catalog-1", port: int = 5001) -> Registration:
    return Registration(instance_id=instance_id, host="127.0.0.1", port=port)


def test_each_write_of_a_client_is_told_and_each_write_of_a_peer_is_not(store):
    told = []
    store.on_write = lambda *write: told.append(write)
    instance, _ = store.register("catalog", registration(), "shop")
    store.heartbeat("catalog", "catalog-1", "shop")
    store.deregister("catalog", "catalog-1", "shop")
    assert told == [
        ("register", "catalog", "catalog-1"),
        ("renew", "catalog", "catalog-1"),
        ("remove", "catalog", "catalog-1"),
    ]

    told.clear()
    store.adopt(instance, expires_in=TTL)
    assert store.renew_adopted("catalog", "catalog-1")
    store.drop("catalog", "catalog-1")
    assert told == []


def test_an_adopted_instance_keeps_its_owner_and_the_rest_of_its_lease(store, clock):
    instance, _ = store.register("catalog", registration(), "shop")
    other = type(store)(TTL, clock=clock.monotonic, wall_clock=clock.time)
    index = other.index

    other.adopt(instance, expires_in=4.0)

    [(adopted, left)] = other.leases()
    assert (adopted.owner, adopted.registered_at, left) == ("shop", instance.registered_at, 4.0)
    assert other.index == index + 1  # watchers of the other hear of it
    clock.advance(4.0)
    assert [e.instance_id for e in other.evict_expired()] == ["catalog-1"]


def test_a_renewal_of_an_instance_not_held_is_answered_unknown(store):
    unknown = apply_writes(store, {"renew": [["catalog", "catalog-9"]]})
    assert unknown == [("catalog", "catalog-9")]


def test_a_peer_is_sent_each_instance_once_as_its_latest_write_left_it(store):
    peers = Peers(store, ("http://peer",), TOKEN)
    peer = peers.peers[0]
    store.on_write = peers.told
    store.register("catalog", registration("catalog-1"), "shop")
    store.heartbeat("catalog", "catalog-1", "shop")  # adds nothing to the registration
    store.register("catalog", registration("catalog-2", 5002), "shop")
    store.deregister("catalog", "catalog-2", "shop")
    store.register("catalog", registration("catalog-3", 5003), "shop")
    store.heartbeat("catalog", "catalog-3", "shop")
    pending = peer._pending

    writes = peer._writes(dict(pending), send_all=False)

    kinds = [(k, value["instance_id"] if k == "register" else value) for k, value in writes]
    assert kinds == [
        ("register", "catalog-1"),
        ("remove", ["catalog", "catalog-2"]),
        ("register", "catalog-3"),
    ]


def test_a_peer_that_missed_writes_is_sent_every_instance(store):
    peers = Peers(store, ("http://peer",), TOKEN)
    store.register("catalog", registration("catalog-1"), "shop")
    store.register("catalog", registration("catalog-2", 5002), "shop")
    writes = Peer("http://peer", peers)._writes({}, send_all=True)
    assert sorted(value["instance_id"] for _, value in writes) == ["catalog-1", "catalog-2"]


def test_the_peer_api_applies_writes_and_lists_what_it_holds(client, store, clock):
    instance, _ = store.register("catalog", registration(), "shop")
    other = type(store)(TTL, clock=clock.monotonic, wall_clock=clock.time)
    held = instance_wire(instance, 5.0)

    answer = client.post(
        "/v1/peers/writes",
        json={"register": [held | {"instance_id": "catalog-7"}], "renew": [["catalog", "x"]]},
        headers=PEER,
    )

    assert answer.status_code == 200
    assert answer.json == {"unknown": [["catalog", "x"]]}
    listed = client.get("/v1/peers/instances", headers=PEER).json["instances"]
    assert sorted(i["instance_id"] for i in listed) == ["catalog-1", "catalog-7"]
    apply_writes(other, {"register": listed})
    assert {i.instance_id for i, _ in other.leases()} == {"catalog-1", "catalog-7"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
)
def test_the_peer_api_refuses_anyone_without_the_peers_token(client, headers):
    answer = client.get("/v1/peers/instances", headers=headers)
    assert answer.status_code == 401
    assert answer.content_type == "application/problem+json"


def test_the_peer_api_is_not_there_without_a_peer_token(settings, store):
    app = create_app(dataclasses.replace(settings, peer_token=None), store=store)
    answer = app.test_client().get("/v1/peers/instances", headers=PEER)
    assert answer.status_code == 404
    assert answer.content_type == "application/problem+json"


def test_writes_that_are_not_a_peers_are_refused_and_change_nothing(client, store):
    for body in ({"register": [{"service": "catalog"}]}, {"renew": "x"}, [1]):
        answer = client.post("/v1/peers/writes", json=body, headers=PEER)
        assert answer.status_code == 400, body
    assert store.leases() == []


def test_a_registry_that_sends_to_itself_applies_nothing_and_says_who_it_is(app, client, store):
    peers = Peers(store, ("http://self",), TOKEN)
    app.extensions[PEERS_EXTENSION] = peers
    instance, _ = store.register("catalog", registration(), "shop")
    held = instance_wire(instance, 5.0) | {"instance_id": "catalog-7"}

    answer = client.post(
        "/v1/peers/writes",
        json={"register": [held]},
        headers=PEER | {NODE_HEADER: peers.node},
    )

    assert answer.headers[NODE_HEADER] == peers.node
    assert [i.instance_id for i, _ in store.leases()] == ["catalog-1"]
