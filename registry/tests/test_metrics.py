"""GET /metrics: live instances per service, heartbeats that renewed a
lease, and evictions (docs/observability.md)."""

from prometheus_client.parser import text_string_to_metric_families

from registry.reaper import Reaper

from .test_eureka import basic, eureka_instance


def scrape(client) -> dict[tuple[str, tuple], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_counts_instances_heartbeats_and_evictions(client, register, auth, store, clock):
    before = scrape(client)
    register(instance_id="catalog-a")
    register(instance_id="catalog-b", port=5002)
    for _ in range(3):
        answer = client.put("/v1/services/catalog/instances/catalog-a/heartbeat", headers=auth)
        assert answer.status_code == 200
    # A heartbeat for an unknown instance renews nothing, so counts nothing.
    client.put("/v1/services/catalog/instances/nobody/heartbeat", headers=auth)
    during = scrape(client)
    clock.advance(16)  # past both leases
    Reaper(store, interval_seconds=60).sweep()
    after = scrape(client)

    assert value(during, "polyshop_registry_instances", service="catalog") == 2
    assert value(after, "polyshop_registry_instances", service="catalog") == 0
    heartbeats = "polyshop_registry_heartbeats_total"
    assert (
        value(during, heartbeats, service="catalog") - value(before, heartbeats, service="catalog")
        == 3
    )
    evictions = "polyshop_registry_evictions_total"
    assert (
        value(after, evictions, service="catalog") - value(during, evictions, service="catalog")
        == 2
    )
    timed = "http_server_request_duration_seconds_count"
    route = "/v1/services/<name>/instances/<instance_id>/heartbeat"
    assert (
        value(
            during,
            timed,
            http_request_method="PUT",
            http_route=route,
            http_response_status_code="200",
        )
        - value(
            before,
            timed,
            http_request_method="PUT",
            http_route=route,
            http_response_status_code="200",
        )
        == 3
    )


def test_renewals_count_as_requests_of_the_views_routes(client, register, auth):
    register(instance_id="catalog-a")
    client.post("/eureka/apps/CATALOG", json=eureka_instance(), headers=basic("shop"))
    before = scrape(client)
    assert client.put("/v1/services/catalog/instances/catalog-a/heartbeat", headers=auth).json
    assert client.put("/eureka/apps/CATALOG/cat-1", headers=basic("shop")).status_code == 200
    after = scrape(client)

    name = "http_server_request_duration_seconds_count"
    for route in (
        "/v1/services/<name>/instances/<instance_id>/heartbeat",
        "/eureka/apps/<app>/<instance_id>",
    ):
        labels = {
            "http_request_method": "PUT",
            "http_route": route,
            "http_response_status_code": "200",
        }
        assert value(after, name, **labels) - value(before, name, **labels) == 1, route
