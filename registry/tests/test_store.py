"""The store on its own, driven by a fake clock: leases, index, evictions, watches."""

from __future__ import annotations

import threading
import time

import pytest

from registry.models import Limits, Registration
from registry.store import Full, NotTheOwner, Store, TooManyWatchers

TTL = 15.0
OWNER = "shop"  # the credential that registers, in most tests


def registration(instance_id: str = "catalog-1", port: int = 5001, **fields) -> Registration:
    return Registration(instance_id=instance_id, host="127.0.0.1", port=port, **fields)


def test_index_starts_from_the_wall_clock_in_milliseconds(store, clock):
    assert store.index == int(clock.time() * 1000)


def test_registering_a_new_instance_creates_it_and_moves_the_index(store):
    before = store.index

    instance, created = store.register("catalog", registration(), OWNER)

    assert created
    assert (instance.service, instance.instance_id, instance.port) == ("catalog", "catalog-1", 5001)
    assert store.index == before + 1
    assert store.snapshot().services == {"catalog": [instance]}


def test_registering_the_same_instance_again_renews_it_without_moving_the_index(store, clock):
    first, _ = store.register("catalog", registration(), OWNER)
    before = store.index
    clock.advance(10)

    again, created = store.register("catalog", registration(), OWNER)

    assert not created
    assert store.index == before
    assert again.registered_at == first.registered_at
    assert again.lease.expires_at == first.lease.expires_at + 10
    assert len(store.snapshot().services["catalog"]) == 1


def test_registering_a_known_id_at_a_new_address_moves_the_index(store):
    store.register("catalog", registration(), OWNER)
    before = store.index

    instance, created = store.register("catalog", registration(port=6001), OWNER)

    assert not created
    assert instance.port == 6001
    assert store.index == before + 1


def test_heartbeat_renews_the_lease_without_moving_the_index(store, clock):
    store.register("catalog", registration(), OWNER)
    before = store.index
    clock.advance(5)

    instance = store.heartbeat("catalog", "catalog-1", OWNER)

    assert instance is not None
    assert instance.lease.last_heartbeat_at == clock.time()
    assert instance.lease.expires_at == clock.time() + TTL
    assert store.index == before


def test_heartbeat_for_an_unknown_instance_returns_none(store):
    store.register("catalog", registration(), OWNER)

    assert store.heartbeat("catalog", "catalog-2", OWNER) is None
    assert store.heartbeat("orders", "catalog-1", OWNER) is None


def test_deregister_removes_the_instance_and_moves_the_index(store):
    store.register("catalog", registration(), OWNER)
    before = store.index

    assert store.deregister("catalog", "catalog-1", OWNER)

    assert store.index == before + 1
    assert store.snapshot().services == {}
    assert store.evictions() == []


def test_deregister_of_an_unknown_instance_returns_false_and_keeps_the_index(store):
    before = store.index

    assert not store.deregister("catalog", "catalog-1", OWNER)
    assert store.index == before


def test_instance_is_not_evicted_before_its_ttl(store, clock):
    store.register("catalog", registration(), OWNER)
    clock.advance(TTL - 0.001)

    assert store.evict_expired() == []
    assert "catalog" in store.snapshot().services


def test_instance_is_evicted_after_its_ttl_and_the_eviction_is_recorded(store, clock):
    store.register("catalog", registration(), OWNER)
    registered_at = clock.time()
    before = store.index
    clock.advance(TTL + 0.001)

    evicted = store.evict_expired()

    assert [(e.service, e.instance_id) for e in evicted] == [("catalog", "catalog-1")]
    assert evicted[0].last_heartbeat_at == registered_at
    assert evicted[0].evicted_at == clock.time()
    assert store.evictions() == evicted
    assert store.snapshot().services == {}
    assert store.index == before + 1


def test_heartbeat_postpones_eviction(store, clock):
    store.register("catalog", registration(), OWNER)
    clock.advance(10)
    store.heartbeat("catalog", "catalog-1", OWNER)
    clock.advance(10)

    assert store.evict_expired() == []


def test_evictions_keep_the_last_fifty_newest_first(store, clock):
    for number in range(60):
        store.register("catalog", registration(f"catalog-{number}"), OWNER)
        clock.advance(TTL + 1)
        store.evict_expired()

    evictions = store.evictions()

    assert len(evictions) == 50
    assert evictions[0].instance_id == "catalog-59"
    assert evictions[-1].instance_id == "catalog-10"


def test_service_snapshot_holds_only_that_service(store):
    store.register("catalog", registration(), OWNER)
    store.register("orders", registration("orders-1", port=5002), OWNER)

    assert list(store.service_snapshot("orders").services) == ["orders"]
    assert store.service_snapshot("payments").services == {}


def test_wait_for_change_answers_when_a_change_happens(store, wait_until):
    index = store.index
    answers: list[int] = []
    watcher = threading.Thread(target=lambda: answers.append(store.wait_for_change(index, 10)))
    watcher.start()
    wait_until(lambda: store.watchers == 1)

    store.register("catalog", registration(), OWNER)

    watcher.join(timeout=5)
    assert answers == [index + 1]


def test_released_watchers_are_answered_at_once_and_later_ones_do_not_wait(store, wait_until):
    index = store.index
    answers: list[int] = []
    watcher = threading.Thread(target=lambda: answers.append(store.wait_for_change(index, 10)))
    watcher.start()
    wait_until(lambda: store.watchers == 1)

    store.release_watchers()

    watcher.join(timeout=5)
    assert answers == [index]
    began = time.monotonic()
    assert store.wait_for_change(index, 10) == index
    assert time.monotonic() - began < 1


def test_wait_for_change_times_out_with_the_same_index(store):
    index = store.index

    assert store.wait_for_change(index, 0.05) == index
    assert store.watchers == 0


def test_wait_for_change_answers_at_once_for_an_index_greater_than_current(store):
    # A greater index comes from before a restart: the watcher's view is stale.
    index = store.index

    assert store.wait_for_change(index + 1000, 5) == index
    assert store.wait_for_change(index - 1, 5) == index


def test_another_owner_cannot_register_renew_or_deregister_an_instance(store):
    first, _ = store.register("catalog", registration(), OWNER)

    with pytest.raises(NotTheOwner):
        store.register("catalog", registration(port=6001), "rival")
    with pytest.raises(NotTheOwner):
        store.heartbeat("catalog", "catalog-1", "rival")
    with pytest.raises(NotTheOwner):
        store.deregister("catalog", "catalog-1", "rival")

    assert store.instance("catalog", "catalog-1") == first
    assert first.owner == OWNER


def limited(clock, **limits) -> Store:
    return Store(TTL, limits=Limits(**limits), clock=clock.monotonic, wall_clock=clock.time)


def test_a_new_instance_past_the_service_limit_is_refused(clock):
    store = limited(clock, instances_per_service=1)
    store.register("catalog", registration(), OWNER)

    with pytest.raises(Full) as refused:
        store.register("catalog", registration("catalog-2"), OWNER)

    assert (refused.value.scope, refused.value.limit) == ("service", 1)
    assert store.register("catalog", registration(), OWNER)[0].instance_id == "catalog-1"


def test_a_new_instance_past_the_registry_limit_is_refused_until_one_is_evicted(clock):
    store = limited(clock, instances=2)
    store.register("catalog", registration(), OWNER)
    clock.advance(TTL / 2)
    store.register("orders", registration("orders-1"), OWNER)

    with pytest.raises(Full) as refused:
        store.register("payments", registration("payments-1"), OWNER)
    clock.advance(TTL / 2 + 0.001)
    store.evict_expired()

    assert refused.value.scope == "registry"
    assert store.register("payments", registration("payments-1"), OWNER)[1]


def test_a_watcher_past_the_limit_is_refused_unless_its_index_is_stale(clock, wait_until):
    store = limited(clock, watchers=1)
    index = store.index
    waiting = threading.Thread(target=lambda: store.wait_for_change(index, 10))
    waiting.start()
    wait_until(lambda: store.watchers == 1)

    with pytest.raises(TooManyWatchers):
        store.wait_for_change(index, 10)
    assert store.wait_for_change(index - 1, 10) == index  # answered at once: no wait, no slot

    store.register("catalog", registration(), OWNER)
    waiting.join(timeout=5)
    assert store.watchers == 0


def test_a_shorter_lease_registered_after_a_sweep_still_ends_on_time(store, clock):
    store.register("catalog", registration("long", lease_seconds=60.0), OWNER)
    assert store.evict_expired() == []  # the sweep learns that nothing ends before 60 s
    clock.advance(1)
    store.register("catalog", registration("short"), OWNER)  # the registry's 15 s

    clock.advance(TTL + 0.1)
    assert [e.instance_id for e in store.evict_expired()] == ["short"]
    clock.advance(60)
    assert [e.instance_id for e in store.evict_expired()] == ["long"]


def test_changes_within_a_window_tell_each_instance_once_as_it_is_or_was(store, clock):
    store.register("catalog", registration("old"), OWNER)
    clock.advance(10)
    store.register("catalog", registration("new"), OWNER)
    store.register("catalog", registration("new", port=6001), OWNER)  # moved: one entry
    store.register("catalog", registration("gone"), OWNER)
    assert store.deregister("catalog", "gone", OWNER)

    index, changed = store.changed_within(5)

    assert index == store.index
    told = [(instance.instance_id, instance.port, removed) for instance, removed in changed]
    assert told == [("new", 6001, False), ("gone", 5001, True)]
