"""Discovery's cache: a whole read, then only what changed, played onto it;
and across a registry restart, a registry that comes back empty does not
make known instances disappear until it has healed."""

from __future__ import annotations

import threading

import pytest
import requests

from polyshop_common.backoff import Backoff
from polyshop_common.registry import Discovery
from polyshop_common.registry.api import Delta, Snapshot
from polyshop_common.registry.discovery import played

GONE = object()  # the registry's 410: it no longer knows what changed


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ScriptedRegistry:
    """Answers the client's reads from a script, in order: a Snapshot to a
    whole read, a Delta or GONE to a read of changes, or an error to raise.
    A read of the other kind than the script's next answer ends the client."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.waits: list[float | None] = []  # None: a whole read
        self.done = threading.Event()

    def list_services(self):
        return self._next(Snapshot, None)

    def changes_since(self, index, wait):
        return self._next(Delta, wait)

    def _next(self, kind, wait):
        self.waits.append(wait)
        if not self.answers:
            self.done.set()
            threading.Event().wait(5)  # a long poll that stays open
            raise requests.ConnectionError("closed")
        answer = self.answers.pop(0)
        if callable(answer):  # a step of the script that runs when its turn comes
            answer = answer()
        if isinstance(answer, Exception):
            raise answer
        asked = Delta if answer is GONE else type(answer)
        assert asked is kind, f"the client read a {kind.__name__}, the script has {answer!r}"
        return None if answer is GONE else answer


def catalog(port: int) -> dict:
    return {"instance_id": f"catalog-127.0.0.1-{port}", "host": "127.0.0.1", "port": port}


def joined(instance: dict, service: str = "catalog") -> dict:
    return {"service": service, "instance_id": instance["instance_id"], "instance": instance}


def left(instance: dict, service: str = "catalog") -> dict:
    return {"service": service, "instance_id": instance["instance_id"], "instance": None}


def run(registry: ScriptedRegistry, clock: Clock) -> Discovery:
    discovery = Discovery(registry, backoff=Backoff(initial=0, maximum=0), clock=clock)
    discovery.start()
    assert registry.done.wait(5)
    return discovery


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_registry_back_empty_after_an_outage_keeps_the_known_instances(clock):
    registry = ScriptedRegistry(
        Snapshot(1, {"catalog": [catalog(5001), catalog(5011)]}),
        requests.ConnectionError("registry stopped"),
        Snapshot(900, {}),
        Delta(901, [joined(catalog(5011))]),
    )
    discovery = run(registry, clock)
    assert [i["port"] for i in discovery.instances("catalog")] == [5011, 5001]
    assert registry.waits[-1] <= 15.0


def test_after_the_grace_the_registry_view_alone_counts(clock):
    def later(snapshot: Snapshot):
        def step():
            clock.now += 15.0
            return snapshot

        return step

    registry = ScriptedRegistry(
        Snapshot(1, {"catalog": [catalog(5001), catalog(5011)]}),
        requests.ConnectionError("registry stopped"),
        Snapshot(900, {}),
        later(Delta(901, [joined(catalog(5011))])),
    )
    discovery = run(registry, clock)
    assert [i["port"] for i in discovery.instances("catalog")] == [5011]
    assert registry.waits[-1] == 30


def test_without_an_outage_a_removed_instance_leaves_at_once(clock):
    registry = ScriptedRegistry(
        Snapshot(1, {"catalog": [catalog(5001), catalog(5011)]}),
        Delta(2, [left(catalog(5001))]),
    )
    discovery = run(registry, clock)
    assert [i["port"] for i in discovery.instances("catalog")] == [5011]


def test_after_a_whole_read_only_changes_are_read(clock):
    registry = ScriptedRegistry(
        Snapshot(1, {"catalog": [catalog(5011)]}),
        Delta(
            3, [joined(catalog(5001)), joined({"instance_id": "orders-1", "port": 5002}, "orders")]
        ),
        Delta(3, []),  # the wait ran out: nothing changed
        Delta(4, [left({"instance_id": "orders-1"}, "orders")]),
    )
    discovery = run(registry, clock)
    assert registry.waits == [None, 30, 30, 30, 30]
    assert [i["port"] for i in discovery.instances("catalog")] == [5001, 5011]
    assert discovery.services().keys() == {"catalog"}


def test_when_the_registry_no_longer_knows_what_changed_the_whole_list_is_read(clock):
    registry = ScriptedRegistry(
        Snapshot(1, {"catalog": [catalog(5001)]}),
        GONE,
        Snapshot(50, {"catalog": [catalog(5011)]}),
        Delta(51, [joined(catalog(5021))]),
    )
    discovery = run(registry, clock)
    assert registry.waits == [None, 30, None, 30, 30]
    assert [i["port"] for i in discovery.instances("catalog")] == [5011, 5021]


def test_a_change_played_onto_the_view_leaves_the_old_view_as_it_was():
    view = {"catalog": [catalog(5011)], "orders": [{"instance_id": "orders-1"}]}
    changes = [
        joined(catalog(5001)),
        left({"instance_id": "orders-1"}, "orders"),
        joined({**catalog(5011), "port": 6011}),
    ]

    after = played(view, changes)

    assert after == {"catalog": [catalog(5001), {**catalog(5011), "port": 6011}]}
    assert view == {"catalog": [catalog(5011)], "orders": [{"instance_id": "orders-1"}]}
