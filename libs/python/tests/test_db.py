import sqlite3
import threading

import pytest
from flask import Flask

from polyshop_common import db, flask_db


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


def user_version(conn) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def test_each_migration_runs_once_and_a_new_one_is_appended(tmp_path):
    conn = db.connect(tmp_path / "m.db")
    migrations = [
        "CREATE TABLE n (x INTEGER)",
        ("INSERT INTO n VALUES (1)", "INSERT INTO n VALUES (2)"),
    ]
    db.migrate(conn, migrations)
    db.migrate(conn, migrations)
    assert user_version(conn) == 2
    db.migrate(conn, [*migrations, "INSERT INTO n VALUES (3)"])
    assert user_version(conn) == 3
    assert [row["x"] for row in conn.execute("SELECT x FROM n")] == [1, 2, 3]


def test_when_a_migration_fails_none_of_that_run_is_kept(tmp_path):
    conn = db.connect(tmp_path / "m.db")
    with pytest.raises(sqlite3.OperationalError):
        db.migrate(conn, ["CREATE TABLE a (x INTEGER)", ("CREATE TABLE b (x INTEGER)", "NOT SQL")])
    assert user_version(conn) == 0
    assert (
        conn.execute("SELECT count(*) FROM sqlite_master WHERE name IN ('a', 'b')").fetchone()[0]
        == 0
    )


def test_a_database_made_by_the_unnumbered_statements_upgrades_and_keeps_its_rows(tmp_path):
    old_statements = ("CREATE TABLE IF NOT EXISTS t (x INTEGER)", db.PROCESSED_EVENTS_TABLE)
    conn = db.connect(tmp_path / "old.db")
    for statement in old_statements:  # what every start used to run, leaving user_version 0
        conn.execute(statement)
    conn.execute("INSERT INTO t VALUES (7)")
    db.migrate(conn, [old_statements, "ALTER TABLE t ADD COLUMN y INTEGER"])
    assert user_version(conn) == 2
    assert [tuple(row) for row in conn.execute("SELECT x, y FROM t")] == [(7, None)]


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


def test_a_thread_keeps_its_connection_from_request_to_request(tmp_path):
    app = Flask(__name__)
    flask_db.init_app(app, tmp_path / "kept.db", ["CREATE TABLE thing (id INTEGER PRIMARY KEY)"])
    with app.app_context():
        first = flask_db.get_db()
    with app.app_context():
        assert flask_db.get_db() is first
    other: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: other.append(_connection_of(app)))
    thread.start()
    thread.join()
    assert other[0] is not first
    for conn in (first, *other):
        conn.close()


def test_a_transaction_a_request_left_open_is_rolled_back_when_it_ends(tmp_path):
    app = Flask(__name__)
    flask_db.init_app(app, tmp_path / "left.db", ["CREATE TABLE thing (id INTEGER PRIMARY KEY)"])
    with app.app_context():
        conn = flask_db.get_db()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO thing (id) VALUES (1)")
    with app.app_context():
        assert not flask_db.get_db().in_transaction
        assert flask_db.get_db().execute("SELECT count(*) FROM thing").fetchone()[0] == 0


def _connection_of(app: Flask) -> sqlite3.Connection:
    with app.app_context():
        return flask_db.get_db()


def test_writers_of_one_file_in_one_process_share_a_lock_held_for_the_transaction(tmp_path):
    first, second = db.connect(tmp_path / "a.db"), db.connect(tmp_path / "a.db")
    other = db.connect(tmp_path / "b.db")
    try:
        assert first.writers is second.writers
        assert other.writers is not first.writers
        free: list[bool] = []

        def try_lock() -> None:
            free.append(first.writers.acquire(blocking=False))
            if free[-1]:
                first.writers.release()

        with db.transaction(first):
            thread = threading.Thread(target=try_lock)
            thread.start()
            thread.join()
        assert free == [False]  # another thread's writer waits on the lock, not on SQLite
        thread = threading.Thread(target=try_lock)
        thread.start()
        thread.join()
        assert free == [False, True]
    finally:
        for conn in (first, second, other):
            conn.close()
