import sqlite3

import pytest

from polyshop_common import db


@pytest.fixture
def conn(tmp_path):
    connection = db.connect(tmp_path / "sub" / "test.db")
    db.migrate(connection, ["CREATE TABLE IF NOT EXISTS t (x INTEGER)", db.PROCESSED_EVENTS_TABLE])
    yield connection
    connection.close()


def test_connect_uses_wal_foreign_keys_and_rows_by_name(conn):
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1


def test_a_transaction_commits_everything_or_nothing(conn):
    with db.transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError), db.transaction(conn):
        conn.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("half-way")
    assert [row["x"] for row in conn.execute("SELECT x FROM t")] == [1]


def test_migrating_twice_changes_nothing(conn):
    db.migrate(conn, ["CREATE TABLE IF NOT EXISTS t (x INTEGER)"])


def test_an_event_id_is_processed_once(conn):
    with db.transaction(conn):
        assert db.mark_processed(conn, "e-1", "order.created")
        assert not db.mark_processed(conn, "e-1", "order.created")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("no such table: x"), False),
        (ValueError("locked"), False),
    ],
)
def test_only_locked_or_busy_database_errors_are_transient(error, transient):
    assert db.is_transient(error) is transient
