/**
 * Events of the `orders` topic, as notifications handles them.
 *
 * order.created only teaches us who owns the order. order.confirmed and
 * order.cancelled become a notification, written with the order summary
 * that orders gives (client-side discovery, with a service token the
 * gateway issued for calling orders; the call carries the trace of the
 * event handled, as every fetch does). The summary is fetched in `prepare`,
 * outside the transaction; if orders or the gateway cannot be reached the
 * event goes to a retry topic and comes back after a delay,
 * while the partition moves on (docs/saga.md, "Retries"). A new
 * notification puts notification.sent into the outbox in the same
 * transaction; one that existed already (the same order event again under
 * another id) puts nothing, so the customer is said to be told once.
 */
import { UpstreamError } from '@polyshop/common';
import { addNotification, messageFor, recordOwner } from '../domain/notifications.js';
import { emitSent } from './outgoing.js';

/**
 * @param {object} deps
 * @param {import('@polyshop/common').ServiceClient} deps.orders a client of the orders service
 * @param {{tokenFor: (audience: string) => Promise<string>}} deps.serviceTokens
 *   from createServiceTokens: the token for calling orders
 * @param {import('@polyshop/common').Contracts} deps.contracts checks what is emitted
 */
export function orderHandlers({ orders, serviceTokens, contracts, logger }) {
  const log = logger.child({ component: 'order-handlers' });

  async function orderSummary(event) {
    const token = await serviceTokens.tokenFor('orders');
    const path = `/orders/${encodeURIComponent(event.data.order_id)}`;
    try {
      return await orders.getJson(path, { headers: { authorization: `Bearer ${token}` } });
    } catch (error) {
      // Orders answered that it does not know the order: waiting will not
      // change that, so the notification is written from the event alone.
      if (error instanceof UpstreamError && error.status === 404) {
        log.warn({ order_id: event.data.order_id }, 'orders does not know the order');
        return null;
      }
      throw error;
    }
  }

  const notify = {
    prepare: orderSummary,
    apply: (event, tx, { prepared: summary }) => {
      const { order_id: orderId, user } = event.data;
      recordOwner(tx, orderId, user);
      const message = messageFor(event, summary);
      const notificationId = addNotification(tx, { orderId, user, type: event.type, message });
      if (notificationId === null) return;
      emitSent(tx, { contracts }, { orderId, user, notificationId, about: event.type });
    },
  };

  return {
    'order.created': (event, tx) => recordOwner(tx, event.data.order_id, event.data.user),
    'order.confirmed': notify,
    'order.cancelled': notify,
  };
}
