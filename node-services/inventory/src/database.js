/**
 * Inventory's database: its tables, and the stock it starts with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  migrate, openDatabase, OUTBOX_TABLE, PROCESSED_EVENTS_TABLE,
} from '@polyshop/common';
import { seedStock } from './domain/stock.js';

// Append only: each entry is one migration (see migrate() in @polyshop/common).
const MIGRATIONS = [
  `CREATE TABLE stock (
     sku       TEXT PRIMARY KEY,
     available INTEGER NOT NULL CHECK (available >= 0),
     reserved  INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0)
   );
   CREATE TABLE reservations (
     order_id   TEXT PRIMARY KEY,
     user       TEXT NOT NULL,
     status     TEXT NOT NULL CHECK (status IN ('HELD', 'REJECTED', 'RELEASED', 'COMMITTED')),
     reason     TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE reservation_lines (
     order_id TEXT NOT NULL REFERENCES reservations (order_id),
     sku      TEXT NOT NULL REFERENCES stock (sku),
     quantity INTEGER NOT NULL CHECK (quantity > 0),
     PRIMARY KEY (order_id, sku)
   );`,
  PROCESSED_EVENTS_TABLE,
  OUTBOX_TABLE,
  // Orders known to be cancelled: an order.created read after its
  // cancellation (it waited in a retry topic) reserves nothing.
  `CREATE TABLE cancelled_orders (
     order_id     TEXT PRIMARY KEY,
     reason       TEXT NOT NULL,
     cancelled_at TEXT NOT NULL
   );
   CREATE INDEX reservations_held ON reservations (created_at) WHERE status = 'HELD';`,
];

/**
 * Opens and migrates the database; fills the stock from the seed file while
 * the stock table is empty.
 *
 * @param {string} path DATA_DIR/inventory.db, or ':memory:' in tests
 * @param {{contractsDir: string, seedFile?: string}} options where
 *   contracts/seed/products.json is, or another seed file to read instead
 */
export function openInventoryDatabase(path, { contractsDir, seedFile }) {
  const db = openDatabase(path);
  migrate(db, MIGRATIONS);
  const file = seedFile ?? join(contractsDir, 'seed', 'products.json');
  const seed = JSON.parse(readFileSync(file, 'utf8'));
  db.transaction(() => seedStock(db, seed.products))();
  return db;
}
