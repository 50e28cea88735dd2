/**
 * The event notifications emits, notification.sent: checked against its
 * contract, then written to the outbox inside the handler's transaction,
 * together with the notification it tells of (the relay publishes it; see
 * @polyshop/common's outbox module for why).
 */
import { emitEvent } from '@polyshop/common';

const SOURCE = '/notifications';
const TYPE = 'notification.sent';

/**
 * @param {import('better-sqlite3').Database} tx the handler's transaction
 * @param {{contracts: import('@polyshop/common').Contracts}} context
 * @param {{orderId: string, user: string, notificationId: string, about: string}} sent
 *   `about` is the type of the event the notification tells of
 */
export function emitSent(tx, context, { orderId, user, notificationId, about }) {
  // Who and what only: the text and the amounts stay in the notification,
  // for those allowed to read it (GET /notifications?order_id=).
  const data = { order_id: orderId, user, notification_id: notificationId, about };
  emitEvent(tx, context, { type: TYPE, source: SOURCE, subject: orderId, data });
}
