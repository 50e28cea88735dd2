/**
 * Notifications: what the customer is told about their orders, and who may
 * read it.
 *
 * Every event on the `orders` topic names the order's user, so this service
 * keeps its own small copy of "who owns which order" (order_owners) and
 * never has to ask orders whether a caller may see an order's notifications.
 * Domain code: takes a database handle, knows nothing of HTTP or Kafka.
 */
import { randomUUID } from 'node:crypto';

export const RECENT_LIMIT = 50;

/** Remembers who placed an order; the first event that names the order decides. */
export function recordOwner(db, orderId, user) {
  db.prepare('INSERT OR IGNORE INTO order_owners (order_id, user) VALUES (?, ?)')
    .run(orderId, user);
}

/** @returns {string|undefined} the user who placed the order, if an event named it */
export function ownerOf(db, orderId) {
  return db.prepare('SELECT user FROM order_owners WHERE order_id = ?').get(orderId)?.user;
}

/**
 * Stores a notification; one per order and type, so an event repeated
 * under a new id does not tell the customer twice.
 * @returns {string|null} the new notification's id; null when that notification existed already
 */
export function addNotification(db, { orderId, user, type, message }) {
  const id = randomUUID();
  const result = db.prepare(
    `INSERT OR IGNORE INTO notifications (id, order_id, user, type, message, created_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(id, orderId, user, type, message, new Date().toISOString());
  return result.changes === 1 ? id : null;
}

/** @returns {object[]} the notifications of one order, oldest first */
export function notificationsOfOrder(db, orderId) {
  return db
    .prepare('SELECT * FROM notifications WHERE order_id = ? ORDER BY created_at, rowid')
    .all(orderId);
}

/**
 * @param {string|null} user whose notifications; null for everyone's (a service asking)
 * @returns {object[]} the newest first
 */
export function recentNotifications(db, user, limit = RECENT_LIMIT) {
  const newestFirst = 'ORDER BY created_at DESC, rowid DESC LIMIT ?';
  if (user === null) {
    return db.prepare(`SELECT * FROM notifications ${newestFirst}`).all(limit);
  }
  return db.prepare(`SELECT * FROM notifications WHERE user = ? ${newestFirst}`).all(user, limit);
}

/**
 * The text the customer reads.
 * @param {object} event order.confirmed or order.cancelled
 * @param {object|null} summary orders' view of the order (GET /orders/{id}); null if unknown there
 */
export function messageFor(event, summary) {
  const { order_id: orderId, reason } = event.data;
  const shortId = orderId.slice(0, 8);
  const count = summary?.items?.reduce((sum, item) => sum + item.quantity, 0);
  const what = count ? ` (${count} ${count === 1 ? 'item' : 'items'})` : '';
  if (event.type === 'order.confirmed') {
    const cents = summary?.total_cents ?? event.data.total_cents;
    const total = money(cents, event.data.currency);
    return `Your order ${shortId}${what} is confirmed: ${total} will be charged.`;
  }
  return `Your order ${shortId}${what} was cancelled: ${summary?.reason ?? reason}.`;
}

function money(cents, currency) {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}
