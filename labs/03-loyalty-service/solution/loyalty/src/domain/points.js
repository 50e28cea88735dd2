/**
 * Loyalty points: one point per whole unit of an order's currency (an
 * order of 12.50 EUR earns 12), awarded once per confirmed order.
 *
 * order.confirmed names the order's user, so points are kept by user
 * without asking orders anything. Domain code: takes a database handle,
 * knows nothing of HTTP or Kafka.
 */

/** @param {number} totalCents an order's total, in cents */
export function pointsFor(totalCents) {
  return Math.floor(totalCents / 100);
}

/**
 * Awards an order's points to its user. One award per order: the same
 * order confirmed again under another event id earns nothing more (the
 * consumer's processed_events catches the same event id; this catches the
 * same fact).
 * @param {{order_id: string, user: string, total_cents: number}} order order.confirmed's data
 */
export function award(db, { order_id: orderId, user, total_cents: totalCents }) {
  db.prepare(
    `INSERT OR IGNORE INTO awards (order_id, user, points, awarded_at)
     VALUES (?, ?, ?, ?)`,
  ).run(orderId, user, pointsFor(totalCents), new Date().toISOString());
}

/** @returns {number} the user's points (0 for a user with no confirmed order) */
export function balanceOf(db, user) {
  return db.prepare('SELECT COALESCE(SUM(points), 0) AS points FROM awards WHERE user = ?')
    .get(user).points;
}
