"""The registry's metrics, at `GET /metrics` beside its API
(docs/observability.md, 'Metrics'): the request series every piece has, the
live instances of each service (counted when scraped), the heartbeats that
renewed a lease, and the instances evicted when their lease ran out.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask
from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from polyshop_common.metrics import serve_metrics, time_requests
from registry.store import Store

HEARTBEATS = Counter(
    "polyshop_registry_heartbeats",
    "Heartbeats that renewed an instance's lease.",
    ["service"],
)
EVICTIONS = Counter(
    "polyshop_registry_evictions",
    "Instances removed because their lease ran out.",
    ["service"],
)


class Instances(Collector):
    def __init__(self) -> None:
        self.store: Store | None = None  # the app's, once one is made

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "polyshop_registry_instances", "Live instances of each service.", labels=["service"]
        )
        if self.store is not None:
            for service, count in self.store.instance_counts().items():
                family.add_metric([service], count)
        yield family


INSTANCES = Instances()
REGISTRY.register(INSTANCES)


def register_metrics(app: Flask, store: Store) -> None:
    INSTANCES.store = store
    time_requests(app)
    serve_metrics(app)
