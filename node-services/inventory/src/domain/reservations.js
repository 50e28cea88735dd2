/**
 * Reservations: the stock held for one order while the saga runs.
 *
 *   order.created   → reserve every line, or none (REJECTED, reason names the sku);
 *                     nothing for an order known to be cancelled
 *   payment.declined, order.cancelled → release a reservation still HELD
 *   order.cancelled → also remember the order as cancelled
 *   the expiry sweep → release a reservation HELD longer than its time to live
 *   order.confirmed → commit it: the goods are sold (after an expiry, taken
 *                     from available again, as far as there are any)
 *
 * Each function runs inside the caller's transaction (the consumer's or the
 * sweeper's), and each is safe to call again for the same order: a
 * reservation that has moved on is left as it is, and a status changes only
 * from the one expected (compared and set in one UPDATE), so nothing is
 * released twice. That is what makes a late or repeated event harmless even
 * when it carries a new event id.
 */
import {
  getStock, removeReserved, sellFromAvailable, shiftToReserved,
} from './stock.js';

/** The reason of a release by the expiry sweep, in the reservation and its event. */
export const RESERVATION_EXPIRED = 'reservation expired';

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
 *   | {outcome: 'duplicate'} | {outcome: 'cancelled'}} duplicate: the order was decided
 *   before; cancelled: its cancellation came first, so nothing is held for it
 */
export function reserve(db, { orderId, user, items }) {
  if (findReservation(db, orderId)) return { outcome: 'duplicate' };
  if (isCancelled(db, orderId)) return { outcome: 'cancelled' };
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
  if (!moveOn(db, orderId, 'HELD', 'RELEASED', reason)) return null;
  const { lines } = findReservation(db, orderId);
  for (const { sku, quantity } of lines) shiftToReserved(db, sku, -quantity);
  return lines;
}

/**
 * The order is confirmed: the goods are sold. A HELD reservation's goods
 * leave `reserved`. One that expired gave its goods back to `available`, so
 * they are taken from there again, as many as there are; the rest is
 * oversold (a real shop would backorder it), reported in `short`.
 *
 * @returns {{short: {sku: string, quantity: number}[]} | null} null if
 *   nothing was held or expired (unknown, rejected, released, sold already)
 */
export function commit(db, orderId) {
  if (moveOn(db, orderId, 'HELD', 'COMMITTED', null)) {
    const { lines } = findReservation(db, orderId);
    for (const { sku, quantity } of lines) removeReserved(db, sku, quantity);
    return { short: [] };
  }
  const soldLate = 'sold after its reservation expired';
  if (!moveOn(db, orderId, 'RELEASED', 'COMMITTED', soldLate, RESERVATION_EXPIRED)) return null;
  const { lines } = findReservation(db, orderId);
  const short = lines
    .map(({ sku, quantity }) => ({ sku, quantity: sellFromAvailable(db, sku, quantity) }))
    .filter(({ quantity }) => quantity > 0);
  return { short };
}

/** Remembers a cancelled order, so a late order.created for it reserves nothing. */
export function rememberCancelled(db, orderId, reason) {
  db.prepare(
    'INSERT OR IGNORE INTO cancelled_orders (order_id, reason, cancelled_at) VALUES (?, ?, ?)',
  ).run(orderId, reason, new Date().toISOString());
}

export function isCancelled(db, orderId) {
  return db.prepare('SELECT 1 FROM cancelled_orders WHERE order_id = ?').get(orderId) !== undefined;
}

/**
 * @param {string} cutoff an ISO time: reservations made before it are overdue
 * @returns {string[]} order ids of reservations still HELD since before `cutoff`, oldest first
 */
export function heldSince(db, cutoff, limit = 100) {
  return db.prepare(
    `SELECT order_id FROM reservations WHERE status = 'HELD' AND created_at < ?
     ORDER BY created_at LIMIT ?`,
  ).pluck().all(cutoff, limit);
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

// from → to, only if the reservation is in `from` (and, if given, has `fromReason`).
function moveOn(db, orderId, from, to, reason, fromReason = null) {
  const { changes } = db.prepare(
    `UPDATE reservations SET status = ?, reason = ?, updated_at = ?
     WHERE order_id = ? AND status = ? AND (? IS NULL OR reason = ?)`,
  ).run(to, reason, new Date().toISOString(), orderId, from, fromReason, fromReason);
  return changes === 1;
}
