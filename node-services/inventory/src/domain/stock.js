/**
 * Stock levels: how many of each sku can still be sold (`available`) and how
 * many are held for orders in progress (`reserved`).
 *
 * Domain code: takes a database handle, knows nothing of HTTP or Kafka.
 */

/** @returns {{sku: string, available: number, reserved: number} | undefined} */
export function getStock(db, sku) {
  return db.prepare('SELECT sku, available, reserved FROM stock WHERE sku = ?').get(sku);
}

/** @returns {{sku: string, available: number, reserved: number}[]} by sku */
export function listStock(db) {
  return db.prepare('SELECT sku, available, reserved FROM stock ORDER BY sku').all();
}

/**
 * Fills an empty stock table from the seed products (`{sku, stock}`).
 * @returns {number} rows added (0 when there was stock already)
 */
export function seedStock(db, products) {
  const { count } = db.prepare('SELECT count(*) AS count FROM stock').get();
  if (count > 0) return 0;
  const insert = db.prepare('INSERT INTO stock (sku, available, reserved) VALUES (?, ?, 0)');
  for (const product of products) insert.run(product.sku, product.stock);
  return products.length;
}

/** Moves `quantity` between available and reserved: + reserves, - releases. */
export function shiftToReserved(db, sku, quantity) {
  db.prepare('UPDATE stock SET available = available - ?, reserved = reserved + ? WHERE sku = ?')
    .run(quantity, quantity, sku);
}

/** The reserved goods left the warehouse: they are neither available nor reserved. */
export function removeReserved(db, sku, quantity) {
  db.prepare('UPDATE stock SET reserved = reserved - ? WHERE sku = ?').run(quantity, sku);
}

/**
 * Sells `quantity` straight from `available` (the goods were not reserved):
 * as many as there are.
 * @returns {number} how many were missing: 0 when there were enough
 */
export function sellFromAvailable(db, sku, quantity) {
  const taken = Math.min(quantity, getStock(db, sku)?.available ?? 0);
  db.prepare('UPDATE stock SET available = available - ? WHERE sku = ?').run(taken, sku);
  return quantity - taken;
}
