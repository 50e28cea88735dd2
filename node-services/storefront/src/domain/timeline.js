/**
 * The saga's timeline: every event of an order, as the storefront shows it.
 *
 * A read model (CQRS): the storefront's consumer writes one row per event it
 * reads from the saga's topics, and the pages read these rows instead of
 * asking five services what happened. A row keeps what the pages show and
 * nothing personal: no user name, no amount. Each order also keeps the id
 * of the trace its steps were handled in, which pages link to. Domain code:
 * takes a database handle, knows nothing of HTTP or Kafka.
 */
import { isTraceId } from '../trace-links.js';

/** What each step is called on the page; the order of the happy path. */
export const STEPS = {
  'order.created': 'Order placed',
  'inventory.reserved': 'Stock reserved',
  'inventory.rejected': 'Stock refused',
  'payment.authorized': 'Payment authorised',
  'payment.declined': 'Payment declined',
  'order.confirmed': 'Order confirmed',
  'order.cancelled': 'Order cancelled',
  'payment.voided': 'Payment voided',
  'inventory.released': 'Stock released',
  'notification.sent': 'Customer notified',
};

export const FINAL = { 'order.confirmed': 'CONFIRMED', 'order.cancelled': 'CANCELLED' };

const WITH_REASON = new Set(['inventory.rejected', 'inventory.released', 'payment.declined', 'payment.voided', 'order.cancelled']);

// A step with its order's trace id (null when unknown).
const STEPS_WITH_TRACE = `SELECT saga_steps.*, order_traces.trace_id FROM saga_steps
  LEFT JOIN order_traces USING (order_id)`;

/**
 * Records one event; an event seen before changes nothing. The order keeps
 * the first trace id it is given: all its steps belong to one trace.
 * @param {{traceId?: string}} [handling] the trace the event is handled in
 * @returns {boolean} true when the step is new
 */
export function recordStep(db, event, { traceId } = {}) {
  const row = rowOf(event);
  const result = db.prepare(
    `INSERT OR IGNORE INTO saga_steps (event_id, order_id, type, service, at, reason)
     VALUES (:event_id, :order_id, :type, :service, :at, :reason)`,
  ).run(row);
  if (result.changes === 1 && isTraceId(traceId)) {
    db.prepare('INSERT OR IGNORE INTO order_traces (order_id, trace_id) VALUES (?, ?)')
      .run(row.order_id, traceId);
  }
  return result.changes === 1;
}

/** One stored step, as pages and event streams show it; undefined if unknown. */
export function storedStep(db, eventId) {
  const row = db.prepare(`${STEPS_WITH_TRACE} WHERE event_id = ?`).get(eventId);
  return row && stepView(row);
}

function rowOf(event) {
  return {
    event_id: event.id,
    order_id: event.data.order_id,
    type: event.type,
    service: serviceOf(event),
    at: event.time,
    reason: WITH_REASON.has(event.type) ? (event.data.reason ?? null) : null,
  };
}

/** @returns {object[]} the steps of one order, in the order they happened */
export function stepsOf(db, orderId) {
  return db.prepare(`${STEPS_WITH_TRACE} WHERE order_id = ? ORDER BY at, saga_steps.rowid`)
    .all(orderId).map(stepView);
}

/**
 * The newest orders with their steps: the swim lanes of the system view.
 * @returns {{order_id: string, trace_id?: string, steps: object[]}[]} the newest order first
 */
export function recentOrders(db, limit = 8) {
  const orders = db.prepare(
    `SELECT order_id, MIN(at) AS first FROM saga_steps
     GROUP BY order_id ORDER BY first DESC LIMIT ?`,
  ).all(limit);
  return orders.map(({ order_id: orderId }) => {
    const steps = stepsOf(db, orderId);
    const lane = { order_id: orderId, steps: steps.map(({ reason, trace_id: _, ...step }) => step) };
    if (steps[0].trace_id) lane.trace_id = steps[0].trace_id;
    return lane;
  });
}

/**
 * The order's status and reason as the page shows them: the orders service
 * answered before its last step may have reached the timeline, or the other
 * way round, so whichever knows of a final step wins.
 */
export function statusOf(order, steps) {
  const final = steps.find((step) => FINAL[step.type]);
  if (order.status !== 'PENDING' || !final) return { status: order.status, reason: order.reason };
  return { status: FINAL[final.type], reason: final.reason };
}

/** A row as pages and event streams show it. */
export function stepView(row) {
  const step = {
    id: row.event_id,
    order_id: row.order_id,
    type: row.type,
    label: STEPS[row.type] ?? row.type,
    service: row.service,
    at: row.at,
  };
  if (row.reason) step.reason = row.reason;
  if (row.trace_id) step.trace_id = row.trace_id;
  return step;
}

/** The service that published an event: its CloudEvents source, "/inventory" → "inventory". */
export function serviceOf(event) {
  return event.source.replace(/^\//, '') || 'unknown';
}
