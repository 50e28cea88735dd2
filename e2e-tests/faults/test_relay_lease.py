"""Three inventory instances on one database file: one outbox relay
publishes at a time, and when its instance is killed another takes the
lease over. Every order still finishes, and each order's inventory events
go out once and in order; a copy is allowed only of a row the killed relay
published but had not marked sent when it died."""

from __future__ import annotations

import dataclasses
import json
import signal
import sqlite3
import time
from collections import defaultdict
from contextlib import closing
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from polyshop_dev.pieces import free_port, service_piece
from support import poll
from support.faults import read_json_lines, settle
from support.load import Load, Mix

THIRD = "inventory-3"
INSTANCES = ("inventory", "inventory-2", THIRD)
LEASE_SECONDS = 5.0  # the relay's default
BATCH_SIZE = 100  # at most one batch is in flight when a relay dies
# What inventory may say about one order, in this order, by how it ended.
STORIES = {
    "CONFIRMED": [["inventory.reserved"]],
    "CANCELLED": [["inventory.rejected"], ["inventory.reserved", "inventory.released"]],
}


@pytest.fixture
def three_inventories(shop):
    """A third inventory on the same DATA_DIR; the shop as it was afterwards."""
    common = {k: v for k, v in shop.pieces["inventory"].env.items() if k != "PORT"}
    piece = service_piece("inventory", free_port(), common)
    shop.pieces[THIRD] = dataclasses.replace(piece, name=THIRD)
    shop.start(THIRD)
    yield Path(common["DATA_DIR"]) / "inventory.db"
    for name in INSTANCES[:2]:
        if name not in shop.stack.running:
            shop.start(name)
    shop.stop(THIRD, sig=signal.SIGTERM)
    del shop.pieces[THIRD]


@pytest.mark.slow
def test_one_relay_publishes_and_another_takes_over_when_its_instance_dies(shop, three_inventories):
    database = three_inventories
    mix = Mix(reads=("/api/orders/{order}",), order_every=2, pace=0.05)
    with Load(shop.gateway, mix, threads=3, max_seconds=45) as load:
        load.wait_for(60, timeout=20)
        holder = poll(lambda: lease_holder(database), 5, what="a relay holds the lease")
        killed = instance_of(shop, holder)
        killed_at = time.time()
        shop.stop(killed, sig=signal.SIGKILL)
        killed_by = time.time()
        successor = poll(
            lambda: (found := lease_holder(database)) not in (None, holder) and found,
            LEASE_SECONDS + 5,
            what="another relay takes the lease of the dead one",
        )
        took_over = instance_of(shop, successor)
        load.wait_for(60, timeout=20)
        shop.start(killed)
        load.wait_for(20, timeout=20)
    placed = shop.remember(load)

    assert load.failures() == []
    assert took_over != killed
    taken = [
        line
        for line in read_json_lines(shop.stack.running[took_over].log_path)
        if line.get("message") == "took the outbox lease" and line.get("holder") == successor
    ]
    assert taken, f"{took_over} did not log taking the lease"

    ended = settle(shop)
    poll(lambda: unsent_rows(database) == 0, 10, what="inventory's outbox is drained")
    records = records_of(shop.bootstrap, "inventory", set(placed))
    copies: dict[str, list[int]] = defaultdict(list)  # event id → timestamps (ms)
    stories: dict[str, list[str]] = defaultdict(list)  # order id → types, first copies only
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = json.loads(record.value)
        copies[event["id"]].append(record.timestamp)
        if len(copies[event["id"]]) == 1:
            stories[event["subject"]].append(event["type"])

    for order_id in placed:
        status = ended[order_id]["status"]
        assert stories[order_id] in STORIES[status], (order_id, status, stories[order_id])
    twice = {event_id: sent for event_id, sent in copies.items() if len(sent) > 1}
    assert len(twice) <= BATCH_SIZE, twice
    for event_id, sent in twice.items():
        # The dead relay's copy before the kill, the successor's after it.
        assert len(sent) == 2, (event_id, sent)
        assert sent[0] <= killed_by * 1000 and sent[1] >= killed_at * 1000, (event_id, sent)


def lease_holder(database: Path) -> str | None:
    with closing(sqlite3.connect(database, timeout=5)) as conn:
        row = conn.execute("SELECT holder FROM outbox_lease WHERE id = 1").fetchone()
    return row[0] if row else None


def unsent_rows(database: Path) -> int:
    with closing(sqlite3.connect(database, timeout=5)) as conn:
        return conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]


def instance_of(shop, holder: str) -> str:
    """The piece whose process holds the lease: holder ids are host/pid/random."""
    pid = int(holder.split("/")[1])
    running = shop.stack.running
    names = [name for name in INSTANCES if name in running and running[name].pid == pid]
    assert names, f"no running inventory has pid {pid}"
    return names[0]


def records_of(bootstrap: str, topic: str, keys: set[str]) -> list:
    """Every record of `topic` keyed by one of `keys`, from the beginning to the end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found = []
        deadline = time.monotonic() + 20
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            assert time.monotonic() < deadline, f"{topic} not read to its end"
            for batch in consumer.poll(timeout_ms=300).values():
                found += [r for r in batch if r.key and r.key.decode() in keys]
        return found
    finally:
        consumer.close()
