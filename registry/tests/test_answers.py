"""Reads at one change index share one answer, for a second at most."""

from __future__ import annotations

from registry.answers import Fragments, SharedAnswers
from registry.models import Registration


class Builds:
    """A `build` that counts its calls and shows the index it was asked for."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.calls = 0

    def __call__(self) -> tuple[int, bytes]:
        self.calls += 1
        return self.index, f"state at {self.index}, build {self.calls}".encode()


def test_reads_at_one_index_share_one_answer(clock):
    answers = SharedAnswers(clock=clock.monotonic)
    build = Builds(7)

    first = answers.answer(None, 7, build)
    clock.advance(0.9)
    second = answers.answer(None, 7, build)

    assert build.calls == 1
    assert second == first


def test_a_new_index_is_a_new_answer(clock):
    answers = SharedAnswers(clock=clock.monotonic)
    answers.answer(None, 7, Builds(7))

    fresh = answers.answer(None, 8, Builds(8))

    assert (fresh.index, fresh.body) == (8, b"state at 8, build 1")


def test_an_answer_older_than_its_age_is_built_again_once_a_lease_was_renewed(clock):
    answers = SharedAnswers(max_age_seconds=1.0, clock=clock.monotonic)
    build = Builds(7)
    answers.answer(None, 7, build, renewals=40)

    clock.advance(1.0)
    again = answers.answer(None, 7, build, renewals=41)

    assert build.calls == 2
    assert again.body == b"state at 7, build 2"


def test_an_answer_is_kept_however_old_while_nothing_changes(clock):
    answers = SharedAnswers(max_age_seconds=1.0, clock=clock.monotonic)
    build = Builds(7)
    first = answers.answer(None, 7, build, renewals=40)

    clock.advance(60)
    again = answers.answer(None, 7, build, renewals=40)

    assert build.calls == 1
    assert again is first


def test_each_service_has_its_own_answer(clock):
    answers = SharedAnswers(clock=clock.monotonic)
    catalog, orders = Builds(7), Builds(7)

    answers.answer("catalog", 7, catalog)
    answers.answer("orders", 7, orders)
    answers.answer(None, 7, Builds(7))

    assert (catalog.calls, orders.calls) == (1, 1)
    assert answers.answer("catalog", 7, catalog).body == b"state at 7, build 1"


def test_fragments_render_again_only_the_instances_that_changed(store):
    for number in range(3):
        store.register("catalog", Registration(f"catalog-{number}", "127.0.0.1", 5001), "shop")
    rendered: list[str] = []
    fragments = Fragments(lambda instance: rendered.append(instance.instance_id) or b"x")
    fragments.of(store.snapshot().services)

    store.heartbeat("catalog", "catalog-1", "shop")  # a new object for catalog-1
    store.deregister("catalog", "catalog-2", "shop")
    again = fragments.of(store.snapshot().services)

    assert rendered == ["catalog-0", "catalog-1", "catalog-2", "catalog-1"]
    assert again == {"catalog": [b"x", b"x"]}


def test_a_whole_read_at_a_new_index_shows_every_renewal_since(client, register, auth, clock):
    for number in range(3):
        assert register("catalog", instance_id=f"catalog-{number}").status_code == 201
    first = client.get("/v1/services").get_json()["services"]["catalog"]

    clock.advance(2)
    assert client.put("/v1/services/catalog/instances/catalog-1/heartbeat", headers=auth).json
    assert register("orders", instance_id="orders-0").status_code == 201  # a new index
    second = client.get("/v1/services").get_json()["services"]["catalog"]

    assert [i["last_heartbeat_at"] for i in second] == [
        first[0]["last_heartbeat_at"],
        "2025-06-15T15:06:42.000Z",
        first[2]["last_heartbeat_at"],
    ]
