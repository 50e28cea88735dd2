/**
 * Loyalty's database: one row per order that earned points, and the
 * consumer's processed events (the library's idempotency memory).
 */
import { migrate, openDatabase, PROCESSED_EVENTS_TABLE } from '@polyshop/common';

// Append only: each entry is one migration (see migrate() in @polyshop/common).
const MIGRATIONS = [
  `CREATE TABLE awards (
     order_id   TEXT PRIMARY KEY,
     user       TEXT NOT NULL,
     points     INTEGER NOT NULL,
     awarded_at TEXT NOT NULL
   );
   CREATE INDEX awards_by_user ON awards (user);`,
  PROCESSED_EVENTS_TABLE,
];

/** @param {string} path DATA_DIR/loyalty.db, or ':memory:' in tests */
export function openLoyaltyDatabase(path) {
  const db = openDatabase(path);
  migrate(db, MIGRATIONS);
  return db;
}
