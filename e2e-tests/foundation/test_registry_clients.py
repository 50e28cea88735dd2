"""Both registry clients, Python and Node.js, against a real registry process.

Each scenario runs with agents of both languages: small real processes that
register, heartbeat and discover through the shared client packages.
"""

from __future__ import annotations

import signal
import time

import pytest
import requests

from support import (
    HEARTBEAT_INTERVAL,
    LEASE_TTL,
    discovered_ids,
    instance_id,
    parse_time,
    poll,
    registered_ids,
)

LANGUAGES = ["python", "node"]
CROSSED = [("python", "node"), ("node", "python")]


@pytest.mark.parametrize(("instance_language", "watcher_language"), CROSSED)
def test_when_an_instance_stops_heartbeating_then_it_is_evicted_and_watchers_learn_fast(
    registry_url, start_agent, instance_language, watcher_language
):
    instance = start_agent(instance_language, "alpha")
    watcher = start_agent(watcher_language, "watcher")
    alpha = instance_id("alpha", instance.piece.url)
    poll(lambda: alpha in discovered_ids(watcher.piece.url, "alpha"), 5, what="watcher sees alpha")

    # A frozen process sends no heartbeat: the registry must evict it.
    instance.process.send_signal(signal.SIGSTOP)
    stopped_at = time.time()
    try:
        poll(
            lambda: alpha not in discovered_ids(watcher.piece.url, "alpha"),
            LEASE_TTL + 2,
            interval=0.02,
            what="watcher forgets the evicted instance",
        )
        learned_at = time.time()
        evictions = requests.get(f"{registry_url}/v1/evictions", timeout=2).json()["evictions"]
        evicted_at = parse_time(
            next(e for e in evictions if e["instance_id"] == alpha)["evicted_at"]
        )
    finally:
        instance.process.send_signal(signal.SIGCONT)

    assert evicted_at - stopped_at <= LEASE_TTL + 0.5, "evicted within the lease"
    assert learned_at - evicted_at <= 1.0, "the watcher learned within a second"
    # Thawed, the instance's heartbeat gets 404 and it registers again.
    poll(lambda: alpha in registered_ids(registry_url, "alpha"), 2 * HEARTBEAT_INTERVAL + 1)


def test_when_the_registry_restarts_then_clients_heal_it_within_one_heartbeat(
    stack, start_registry, registry_port, start_agent
):
    start_registry()
    url = f"http://127.0.0.1:{registry_port}"
    agents = {lang: start_agent(lang, f"{lang}-svc") for lang in LANGUAGES}
    expected = {lang: instance_id(f"{lang}-svc", a.piece.url) for lang, a in agents.items()}
    for agent in agents.values():
        for lang in LANGUAGES:
            poll(
                lambda a=agent, lang=lang: (
                    expected[lang] in discovered_ids(a.piece.url, f"{lang}-svc")
                ),
                5,
            )

    stack.stop("registry", sig=signal.SIGKILL)
    assert_caches_keep_answering(agents, expected, seconds=LEASE_TTL + 0.5)

    start_registry()
    ready_at = time.monotonic()
    poll(
        lambda: all(expected[lang] in registered_ids(url, f"{lang}-svc") for lang in LANGUAGES),
        HEARTBEAT_INTERVAL + 0.25,
        what="every instance registered again within one heartbeat interval",
    )
    assert time.monotonic() - ready_at <= HEARTBEAT_INTERVAL + 0.25


def assert_caches_keep_answering(agents, expected, seconds: float) -> None:
    """While the registry is down, every agent still finds every instance,
    for longer than a lease, so nothing expires on the client side either."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for agent in agents.values():
            for lang, iid in expected.items():
                assert iid in discovered_ids(agent.piece.url, f"{lang}-svc")
        time.sleep(0.2)


@pytest.mark.parametrize("language", LANGUAGES)
def test_when_an_instance_gets_sigterm_then_it_deregisters_before_it_exits(
    registry_url, stack, start_agent, language
):
    agent = start_agent(language, "leaver")
    iid = instance_id("leaver", agent.piece.url)
    poll(lambda: iid in registered_ids(registry_url, "leaver"), 5)

    assert stack.stop(agent.piece.name, sig=signal.SIGTERM) == 0
    # Gone at once, not by eviction a lease later.
    assert iid not in registered_ids(registry_url, "leaver")
    evictions = requests.get(f"{registry_url}/v1/evictions", timeout=2).json()["evictions"]
    assert iid not in {e["instance_id"] for e in evictions}
