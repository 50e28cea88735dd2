"""Reads are gzipped for readers that accept it, compressed once per answer,
and decode to the same JSON as the plain answer."""

from __future__ import annotations

import gzip
import json
import threading

import pytest

from registry.answers import Answer

GZIP = {"Accept-Encoding": "gzip"}
READS = ["/v1/services", "/v1/services/catalog"]


@pytest.fixture
def many(register):
    """Enough instances for an answer well past the size worth compressing."""
    for number in range(20):
        assert (
            register("catalog", instance_id=f"catalog-{number}", port=5000 + number).status_code
            == 201
        )


def index_of(response) -> int:
    return int(response.headers["X-Registry-Index"])


@pytest.mark.parametrize("path", READS)
def test_a_read_that_accepts_gzip_gets_the_same_json_gzipped(client, many, path):
    plain = client.get(path)
    zipped = client.get(path, headers=GZIP)

    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert len(zipped.data) < len(plain.data) / 3
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    assert index_of(zipped) == index_of(plain)
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert "Accept-Encoding" in zipped.headers["Vary"]


@pytest.mark.parametrize("accept", ["identity", "gzip;q=0", "br, deflate"])
def test_a_read_that_does_not_accept_gzip_gets_plain_json(client, many, accept):
    response = client.get("/v1/services", headers={"Accept-Encoding": accept})

    assert "Content-Encoding" not in response.headers
    listed = response.get_json()["services"]["catalog"]
    assert {f"catalog-{number}" for number in range(20)} <= {i["instance_id"] for i in listed}


def test_a_small_answer_is_sent_plain(client, register):
    assert register("catalog").status_code == 201
    response = client.get("/v1/services/catalog", headers=GZIP)

    assert len(response.data) < 1024
    assert "Content-Encoding" not in response.headers
    assert response.get_json()["name"] == "catalog"


def test_a_watcher_woken_by_a_change_gets_the_change_gzipped(
    app, client, store, many, register, wait_until
):
    index = index_of(client.get("/v1/services"))
    answers = []
    watch = f"/v1/services?index={index}&wait=5s"
    watcher = threading.Thread(
        target=lambda: answers.append(app.test_client().get(watch, headers=GZIP))
    )
    watcher.start()
    wait_until(lambda: store.watchers == 1)

    assert register("catalog", instance_id="catalog-new", port=6000).status_code == 201

    watcher.join(timeout=5)
    [response] = answers
    assert response.headers["Content-Encoding"] == "gzip"
    listed = json.loads(gzip.decompress(response.data))["services"]["catalog"]
    assert "catalog-new" in {instance["instance_id"] for instance in listed}
    assert index_of(response) == index + 1


def test_readers_of_one_answer_share_its_compressed_bytes(client, many):
    first = client.get("/v1/services", headers=GZIP)
    second = client.get("/v1/services", headers=GZIP)

    assert index_of(first) == index_of(second)
    assert first.data == second.data


def test_an_answer_is_compressed_once():
    answer = Answer(index=7, body=b'{"services":{}}' * 100, made_at=0.0)

    assert answer.gzipped() is answer.gzipped()
    assert gzip.decompress(answer.gzipped()) == answer.body
