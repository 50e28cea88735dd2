"""The orders database's migrations, on files made before and after they were numbered."""

import json

from orders import store
from polyshop_common import db, outbox
from polyshop_common.events import new_event

ORDER_ID = "0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10"
SHARED_COLUMNS = ["id", "topic", "key", "value", "headers", "created_at", "sent_at"]


def outbox_columns(conn):
    return [row["name"] for row in conn.execute("PRAGMA table_info(outbox)")]


def test_a_new_database_gets_every_migration_and_the_shared_outbox(tmp_path):
    conn = db.connect(tmp_path / "orders.db")
    db.migrate(conn, store.MIGRATIONS)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)
    assert outbox_columns(conn) == SHARED_COLUMNS


def test_a_database_made_before_numbered_migrations_keeps_its_unsent_events(tmp_path):
    conn = db.connect(tmp_path / "orders.db")
    for statement in store.MIGRATIONS[0]:  # what every start ran then, leaving user_version 0
        conn.execute(statement)
    event = new_event("order.created", "/orders", ORDER_ID, {"n": 1})
    conn.execute(
        "INSERT INTO outbox (topic, event_id, event, created_at) VALUES ('orders', ?, ?, ?)",
        (event["id"], json.dumps(event), "2026-01-01T00:00:00Z"),
    )
    db.migrate(conn, store.MIGRATIONS)
    assert outbox_columns(conn) == SHARED_COLUMNS
    [row] = outbox.unsent(conn)
    assert (row["key"], json.loads(row["value"])) == (ORDER_ID, event)
