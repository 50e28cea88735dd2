/**
 * Reservations: the stock held for one order while the saga runs.
 *
 *   order.created   → reserve every line, or none (REJECTED, reason names the sku)
 *   payment.declined, order.cancelled → release a reservation still HELD
 *   order.confirmed → commit it: the goods are sold
 *
 * Each function runs inside the caller's transaction (the consumer's), and
 * each is safe to call again for the same order: a reservation that has
 * moved on is left as it is. That is what makes a late or repeated event
 * harmless even when it carries a new event id.
 */
import { getStock, removeReserved, shiftToReserved } from './stock.js';

/** @returns {object|undefined} the reservation of an order, with its lines */
export function findReservation(db, orderId) {
  const reservation = db.prepare('SELECT * FROM reservations WHERE order_id = ?').get(orderId);
  if (!reservation) return undefined;
  const lines = db
    .prepare('SELECT sku, quantity FROM reservation_lines WHERE order_id = ? ORDER BY sku')
    .all(orderId);
  return { ...reservation, lines };
}

/**
 * Reserves every line of an order, or none.
 *
 * @param {{orderId: string, user: string, items: {sku: string, quantity: number}[]}} order
 * @returns {{outcome: 'reserved', lines: object[]} | {outcome: 'rejected', reason: string}
 *   | {outcome: 'duplicate'}} duplicate: the order was decided before
 */
export function reserve(db, { orderId, user, items }) {
  if (findReservation(db, orderId)) return { outcome: 'duplicate' };
  const lines = mergeLines(items);
  const shortage = lines.map((line) => shortageOf(db, line)).find(Boolean);
  if (shortage) {
    insertReservation(db, orderId, user, 'REJECTED', shortage);
    return { outcome: 'rejected', reason: shortage };
  }
  insertReservation(db, orderId, user, 'HELD', null);
  const insertLine = db.prepare(
    'INSERT INTO reservation_lines (order_id, sku, quantity) VALUES (?, ?, ?)',
  );
  for (const { sku, quantity } of lines) {
    shiftToReserved(db, sku, quantity);
    insertLine.run(orderId, sku, quantity);
  }
  return { outcome: 'reserved', lines };
}

/**
 * Gives the stock of a HELD reservation back.
 * @returns {{sku: string, quantity: number}[] | null} the released lines; null if none was held
 */
export function release(db, orderId, reason) {
  const reservation = findReservation(db, orderId);
  if (reservation?.status !== 'HELD') return null;
  for (const { sku, quantity } of reservation.lines) shiftToReserved(db, sku, -quantity);
  setStatus(db, orderId, 'RELEASED', reason);
  return reservation.lines;
}

/**
 * The order is confirmed: the held goods are sold.
 * @returns {boolean} false if no reservation was held
 */
export function commit(db, orderId) {
  const reservation = findReservation(db, orderId);
  if (reservation?.status !== 'HELD') return false;
  for (const { sku, quantity } of reservation.lines) removeReserved(db, sku, quantity);
  setStatus(db, orderId, 'COMMITTED', null);
  return true;
}

// The same sku on two lines counts once, with the quantities added.
function mergeLines(items) {
  const bySku = new Map();
  for (const { sku, quantity } of items) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([sku, quantity]) => ({ sku, quantity }));
}

function shortageOf(db, { sku, quantity }) {
  const stock = getStock(db, sku);
  if (!stock) return `unknown sku ${sku}`;
  if (stock.available < quantity) {
    return `not enough stock for ${sku}: ${quantity} requested, ${stock.available} available`;
  }
  return null;
}

function insertReservation(db, orderId, user, status, reason) {
  const now = new Date().toISOString();
  db.prepare(
    `INSERT INTO reservations (order_id, user, status, reason, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(orderId, user, status, reason, now, now);
}

function setStatus(db, orderId, status, reason) {
  db.prepare('UPDATE reservations SET status = ?, reason = ?, updated_at = ? WHERE order_id = ?')
    .run(status, reason, new Date().toISOString(), orderId);
}
