"""GET / renders services, instances, their leases and the last evictions."""

from __future__ import annotations

import pytest

from registry.dashboard import duration


def test_dashboard_lists_instances_with_their_lease(register, client, clock):
    register("catalog", instance_id="catalog-a", port=5001, metadata={"version": "1.2.0"})
    clock.advance(4)

    response = client.get("/")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    assert "<title>polyshop registry</title>" in page
    assert 'http-equiv="refresh" content="2"' in page
    assert "catalog-a" in page and "127.0.0.1:5001" in page
    assert "Registered for" in page and "Expires in" in page
    assert "4.0 s ago" in page and "11 s" in page
    assert "version=1.2.0" in page


def test_dashboard_lists_recent_evictions(register, client, store, clock):
    register("payments", instance_id="payments-gone", port=5999)
    clock.advance(20)
    store.evict_expired()

    page = client.get("/").get_data(as_text=True)

    assert "No instances registered yet." in page
    assert "payments-gone" in page and "127.0.0.1:5999" in page


def test_dashboard_escapes_what_clients_registered(register, client):
    register("catalog", metadata={"note": "<script>alert(1)</script>"})

    page = client.get("/").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-1, "0.0 s"), (0.42, "0.4 s"), (12.9, "12 s"), (185, "3 min 5 s"), (7440, "2 h 4 min")],
)
def test_duration_reads_like_a_person_would_say_it(seconds, text):
    assert duration(seconds) == text
