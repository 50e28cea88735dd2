"""A poison event goes to the dead-letter topic with its reason, and the
partition it sat in keeps flowing, under load."""

from __future__ import annotations

import pytest

from support import poll
from support.faults import assert_totals_add_up
from support.kafka_probe import committed, find_record, send_raw
from support.load import Load, Mix
from support.shop import new_key

# topic → the consumer groups that read it.
READERS = {"orders": ("inventory", "notifications"), "inventory": ("payments", "orders")}
NOT_JSON = b"{not json"
# JSON nested deeper than Python's recursion limit: no error a parser names.
NESTED_TOO_DEEP = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize(
    ("topic", "poison"),
    [("orders", NOT_JSON), ("inventory", NOT_JSON), ("inventory", NESTED_TOO_DEEP)],
    ids=["orders-not-json", "inventory-not-json", "inventory-nested-too-deep"],
)
def test_a_poison_event_is_dead_lettered_and_its_partition_keeps_flowing(
    shop, stock_before, topic, poison
):
    key = f"poison-{new_key()}".encode()
    with Load(shop.gateway, Mix(order_every=2, pace=0.1), threads=3, max_seconds=60) as load:
        load.wait_for(20, timeout=20)
        partition, offset = send_raw(shop.bootstrap, topic, key, poison)
        dead = find_record(shop.bootstrap, f"{topic}.dlq", lambda r: r.key == key)
        for group in READERS[topic]:
            poll(
                lambda group=group: committed(shop.bootstrap, group, topic, partition) > offset,
                15,
                what=f"{group} moved past the poison event",
            )
        load.wait_for(20, timeout=20)
    placed = shop.remember(load)

    headers = {name: value.decode() for name, value in dead.headers}
    assert dead.value == poison
    assert headers["dlq-reason"]
    assert (headers["dlq-topic"], int(headers["dlq-partition"])) == (topic, partition)
    assert int(headers["dlq-offset"]) == offset
    assert load.failures() == []
    assert_totals_add_up(shop, placed, stock_before)
