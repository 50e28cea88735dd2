"""Three inventory instances on one database file: one outbox relay
publishes at a time, and when its instance is killed another takes the
lease over. Every order still finishes, and each order's inventory events
go out once and in order; a copy is allowed only of a row the killed relay
published but had not marked sent when it died."""

from __future__ import annotations

import dataclasses
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from polyshop_dev.pieces import free_port, service_piece
from support import poll
from support.faults import read_json_lines, settle
from support.inventory_events import check_inventory_events
from support.load import Load, Mix

THIRD = "inventory-3"
INSTANCES = ("inventory", "inventory-2", THIRD)
LEASE_SECONDS = 5.0  # the relay's default


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
    check_inventory_events(
        shop.bootstrap, {order_id: ended[order_id] for order_id in placed}, killed_at, killed_by
    )


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
