/**
 * Storefront's database: browser sessions, the saga's timeline (a read
 * model built from the events) with each order's trace id, the latest dead
 * letters, and the consumer's processed events.
 */
import { migrate, openDatabase, PROCESSED_EVENTS_TABLE } from '@polyshop/common';

// Append only: each entry is one migration (see migrate() in @polyshop/common).
const MIGRATIONS = [
  `CREATE TABLE sessions (
     id         TEXT PRIMARY KEY,
     data       TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX sessions_by_expiry ON sessions (expires_at);
   CREATE TABLE saga_steps (
     event_id TEXT PRIMARY KEY,
     order_id TEXT NOT NULL,
     type     TEXT NOT NULL,
     service  TEXT NOT NULL,
     at       TEXT NOT NULL,
     reason   TEXT
   );
   CREATE INDEX saga_steps_by_order ON saga_steps (order_id, at);
   CREATE TABLE dead_letters (
     topic     TEXT NOT NULL,
     partition INTEGER NOT NULL,
     "offset"  TEXT NOT NULL,
     reason    TEXT NOT NULL,
     source    TEXT NOT NULL,
     at        TEXT NOT NULL,
     PRIMARY KEY (topic, partition, "offset")
   );`,
  PROCESSED_EVENTS_TABLE,
  // The trace each order's steps were handled in (the first step's), for
  // the link to a trace UI.
  `CREATE TABLE order_traces (
     order_id TEXT PRIMARY KEY,
     trace_id TEXT NOT NULL
   );`,
];

/** @param {string} path DATA_DIR/storefront.db, or ':memory:' in tests */
export function openStorefrontDatabase(path) {
  const db = openDatabase(path);
  migrate(db, MIGRATIONS);
  return db;
}
