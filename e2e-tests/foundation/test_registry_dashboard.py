"""The registry's dashboard, rendered by a real browser."""

from __future__ import annotations

import requests

from polyshop_dev import secrets
from support import LEASE_TTL, instance_id, poll, registered_ids
from support.browser import render


def test_dashboard_shows_live_instances_with_their_lease_and_the_last_evictions(
    registry_url, registry_secrets, start_agent, tmp_path
):
    agent = start_agent("python", "catalog")
    live = instance_id("catalog", agent.piece.url)
    poll(lambda: live in registered_ids(registry_url, "catalog"), 5)
    # Registered once and never renewed: evicted after one lease.
    token = secrets.read(registry_secrets, "payments", "registry-token")
    requests.post(
        f"{registry_url}/v1/services/payments/instances",
        json={"instance_id": "payments-gone", "host": "127.0.0.1", "port": 5999},
        headers={"Authorization": f"Bearer {token}"},
        timeout=2,
    ).raise_for_status()
    poll(lambda: "payments-gone" not in registered_ids(registry_url, "payments"), LEASE_TTL + 2)

    dom = render(registry_url + "/", screenshot=tmp_path / "dashboard.png")

    assert "polyshop registry" in dom
    assert live in dom and agent.piece.url.removeprefix("http://") in dom
    assert "expires in" in dom.lower()
    assert "payments-gone" in dom, "the eviction is listed"
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
