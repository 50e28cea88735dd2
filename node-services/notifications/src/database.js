/**
 * Notifications' database: the notifications, the owner of each order seen
 * on the `orders` topic, the consumer's processed events, and the outbox of
 * the notification.sent events still to publish.
 */
import {
  migrate, openDatabase, OUTBOX_TABLE, PROCESSED_EVENTS_TABLE,
} from '@polyshop/common';

// Append only: each entry is one migration (see migrate() in @polyshop/common).
const MIGRATIONS = [
  `CREATE TABLE notifications (
     id         TEXT PRIMARY KEY,
     order_id   TEXT NOT NULL,
     user       TEXT NOT NULL,
     type       TEXT NOT NULL,
     message    TEXT NOT NULL,
     created_at TEXT NOT NULL,
     UNIQUE (order_id, type)
   );
   CREATE INDEX notifications_by_user ON notifications (user, created_at);
   CREATE TABLE order_owners (
     order_id TEXT PRIMARY KEY,
     user     TEXT NOT NULL
   );`,
  PROCESSED_EVENTS_TABLE,
  OUTBOX_TABLE,
];

/** @param {string} path DATA_DIR/notifications.db, or ':memory:' in tests */
export function openNotificationsDatabase(path) {
  const db = openDatabase(path);
  migrate(db, MIGRATIONS);
  return db;
}
