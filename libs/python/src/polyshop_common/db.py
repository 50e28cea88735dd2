"""SQLite, the way every Python service of polyshop uses it.

One file per service (database per service), WAL mode so readers never
wait for the writer, and explicit transactions: `transaction(conn)` takes
the write lock at BEGIN (IMMEDIATE), so two writers queue on `busy_timeout`
instead of failing half-way. Each thread opens its own connection.

Writers in one process (request threads, the consumer, the outbox relay)
queue on a lock of the process first, one per file: the next one goes the
moment the last commits. SQLite's own wait for a busy file polls, sleeping
1, 2, 5, 10... ms between tries, and that sleep was most of a consumer's
time per event when the relay wrote at the same moment. `busy_timeout`
still covers writers in other processes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from polyshop_common.events import utc_now

BUSY_TIMEOUT_MS = 5000
_NO_LOCK = contextlib.nullcontext()  # a connection not opened by `connect`

PROCESSED_EVENTS_TABLE = """
CREATE TABLE IF NOT EXISTS processed_events (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    processed_at TEXT NOT NULL
)"""


class Connection(sqlite3.Connection):
    """A connection that knows the lock its process's writers of the file share."""

    writers: threading.RLock


_writers: dict[str, threading.RLock] = {}
_writers_guard = threading.Lock()


def _writers_of(path: str | Path) -> threading.RLock:
    if str(path) == ":memory:":
        return threading.RLock()  # a database of its own
    key = str(Path(path).resolve())
    with _writers_guard:
        return _writers.setdefault(key, threading.RLock())


def connect(path: str | Path) -> Connection:
    """Open (creating if needed) a database file; the caller closes it."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit BEGIN; `transaction()` says where one starts.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=Connection)
    conn.writers = _writers_of(path)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # In WAL mode a commit survives a crash of the process; FULL would also
    # survive a power cut, at one fsync per commit.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: everything inside commits together, or nothing does."""
    with getattr(conn, "writers", _NO_LOCK):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


# One migration: a statement, or several run in order.
Migration = str | Sequence[str]


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    """Bring the schema up to date, as Node.js's `migrate` does.

    `migrations[i]` is migration number i + 1; SQLite's `user_version`
    remembers how many have run, each with its bump in one transaction.
    Append new migrations, never edit old ones: a database in the field
    already ran them. So one file takes one list: a second list would skip
    its first migrations, counted as run by the first list.
    """
    with transaction(conn):
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        for version in range(current, len(migrations)):
            migration = migrations[version]
            # Not executescript(): it commits first, outside this transaction.
            for statement in (migration,) if isinstance(migration, str) else migration:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")


def mark_processed(conn: sqlite3.Connection, event_id: str, event_type: str) -> bool:
    """Record an event id inside the caller's transaction.

    False means the id is there already: the event is a redelivery and its
    work is done.
    """
    cursor = conn.execute(
        "INSERT OR IGNORE INTO processed_events (event_id, type, processed_at) VALUES (?, ?, ?)",
        (event_id, event_type, utc_now()),
    )
    return cursor.rowcount == 1


def is_transient(error: BaseException) -> bool:
    """A database error worth retrying: the file is locked or busy, not a bug."""
    return isinstance(error, sqlite3.OperationalError) and (
        "locked" in str(error) or "busy" in str(error)
    )
