"""Discovery's cache across a registry restart: a registry that comes back
empty does not make known instances disappear until it has healed."""

from __future__ import annotations

import threading

import pytest
import requests

from polyshop_common.backoff import Backoff
from polyshop_common.registry import Discovery
from polyshop_common.registry.api import Snapshot


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ScriptedRegistry:
    """Answers list_services from a script: a Snapshot, or an error to raise."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.waits: list[float | None] = []
        self.done = threading.Event()

    def list_services(self, index=None, wait=None):
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
        return answer


def catalog(port: int) -> dict:
    return {"instance_id": f"catalog-127.0.0.1-{port}", "host": "127.0.0.1", "port": port}


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
        Snapshot(901, {"catalog": [catalog(5011)]}),
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
        later(Snapshot(900, {"catalog": [catalog(5011)]})),
    )
    discovery = run(registry, clock)
    assert [i["port"] for i in discovery.instances("catalog")] == [5011]
    assert registry.waits[-1] == 30


def test_without_an_outage_a_removed_instance_leaves_at_once(clock):
    registry = ScriptedRegistry(
        Snapshot(1, {"catalog": [catalog(5001), catalog(5011)]}),
        Snapshot(2, {"catalog": [catalog(5011)]}),
    )
    discovery = run(registry, clock)
    assert [i["port"] for i in discovery.instances("catalog")] == [5011]
