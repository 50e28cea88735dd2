"""The shop on three Kafka brokers, as the Kubernetes ha overlay runs it:
every topic has three copies and min.insync.replicas 2, producers wait
for acks=all. One broker is killed while orders flow: no request fails,
no event is lost, and every saga ends, confirmed or cancelled, with stock
and payments agreeing."""

from __future__ import annotations

import signal

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from support.faults import FaultShop, assert_totals_add_up, fault_shop, settle, stock
from support.load import Load, Mix

BROKERS = 3
# The first address every client is given: they must find the others.
KILLED = "kafka-1"


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> FaultShop:
    with fault_shop(tmp_path_factory.mktemp("cluster"), brokers=BROKERS) as started:
        yield started


def topic_settings(bootstrap: str, topic: str) -> tuple[int, str]:
    """How many copies each partition of `topic` has, and its min.insync.replicas."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        [described] = admin.describe_topics([topic])
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    [copies] = {len(p["replica_nodes"]) for p in described["partitions"]}
    [by_name] = [names[topic] for names in configs.values()]
    return copies, by_name["min.insync.replicas"]["value"]


def test_every_topic_has_a_copy_on_each_broker_and_needs_two_for_a_write(shop):
    for topic in ("orders", "inventory", "payments", "orders.dlq", "orders.retry.1"):
        assert topic_settings(shop.bootstrap, topic) == (BROKERS, str(BROKERS - 1)), topic


@pytest.mark.slow
def test_a_broker_killed_under_load_loses_no_event_and_every_saga_ends(shop):
    settle(shop)
    before = stock(shop)
    mix = Mix(reads=("/api/products", "/api/orders/{order}"), order_every=2, pace=0.1)
    with Load(shop.gateway, mix, threads=3, max_seconds=120) as load:
        load.wait_for(60, timeout=30)  # sagas in flight on every broker
        shop.stack.stop(KILLED, sig=signal.SIGKILL)
        # Past the broker's session timeout (9 s), when the controllers fence
        # it and its partitions get new leaders; orders go on meanwhile.
        load.keep_for(15)
        load.wait_for(60, timeout=30)  # and on the two brokers left
    placed = shop.remember(load)

    assert load.failures() == []
    assert_totals_add_up(shop, placed, before)
