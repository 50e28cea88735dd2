/**
 * One SQLite file per service (database per service), through better-sqlite3.
 *
 * better-sqlite3 is synchronous: a transaction is a plain function that runs
 * start to end without yielding to the event loop, so no other callback can
 * interleave with it. That is what makes "the handler's writes and the
 * processed event id commit together" simple to get right.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (and creates) the database file with the settings every service
 * wants: WAL (readers never block the writer), foreign keys enforced, a
 * wait instead of an immediate SQLITE_BUSY when another connection writes,
 * and commits that survive a crash of the process without an fsync each.
 *
 * @param {string} path a file path, or ':memory:' in tests
 */
export function openDatabase(path) {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // In WAL mode a commit survives a crash of the process; FULL would also
  // survive a power cut, at one fsync per commit. The Python library's choice too.
  db.pragma('synchronous = NORMAL');
  reusePreparedStatements(db);
  return db;
}

const MAX_STATEMENTS = 500; // far above the distinct SQL texts of any service

/**
 * `db.prepare(sql)` hands back the statement compiled the first time for
 * the same text. Handlers read as `db.prepare(sql).run(...)` where they use
 * it; compiling on every call was 7% of a consumer's CPU in the profile
 * (docs/benchmarks/profile.md). A statement runs to its end synchronously
 * (no `iterate()` here), so one is never in use twice at once.
 */
function reusePreparedStatements(db) {
  const compile = db.prepare.bind(db);
  const statements = new Map();
  db.prepare = (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      if (statements.size >= MAX_STATEMENTS) statements.clear();
      statement = compile(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}

/**
 * Brings the schema up to date. `statements[i]` is migration number i + 1;
 * SQLite's `user_version` remembers how many have run. Append new statements,
 * never edit old ones: a database in the field already ran them.
 *
 * @param {import('better-sqlite3').Database} db
 * @param {string[]} statements SQL, one migration each (several statements allowed)
 */
export function migrate(db, statements) {
  const apply = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true });
    for (let version = current; version < statements.length; version += 1) {
      db.exec(statements[version]);
      db.pragma(`user_version = ${version + 1}`);
    }
  });
  apply.immediate();
}

/**
 * The table of event ids a consumer has handled: its idempotency memory.
 * Part of every consuming service's migrations.
 */
export const PROCESSED_EVENTS_TABLE = `
  CREATE TABLE IF NOT EXISTS processed_events (
    event_id     TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    processed_at TEXT NOT NULL
  )`;

/** @returns {boolean} true if the event was handled before */
export function wasProcessed(db, eventId) {
  return db.prepare('SELECT 1 FROM processed_events WHERE event_id = ?').get(eventId) !== undefined;
}

/**
 * Records an event as handled. Call it inside the handler's transaction.
 * @returns {boolean} false when the id was already there (a redelivery)
 */
export function markProcessed(db, event) {
  const result = db.prepare(
    'INSERT OR IGNORE INTO processed_events (event_id, type, processed_at) VALUES (?, ?, ?)',
  ).run(event.id, event.type, new Date().toISOString());
  return result.changes === 1;
}
