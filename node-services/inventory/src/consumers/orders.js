/**
 * Events of the `orders` topic, as inventory handles them.
 */
import { commit, rememberCancelled, reserve } from '../domain/reservations.js';
import { emit, reasonText, releaseAndTell } from './outgoing.js';

/**
 * @param {object} deps
 * @param {import('@polyshop/common').Contracts} deps.contracts checks what is emitted
 * @param {import('pino').Logger} deps.logger
 */
export function orderHandlers({ contracts, logger }) {
  const log = logger.child({ component: 'order-handlers' });
  return {
    'order.created': (event, tx) => {
      const { order_id: orderId, user, items, total_cents, currency } = event.data;
      const result = reserve(tx, { orderId, user, items });
      const context = { contracts };
      if (result.outcome === 'reserved') {
        emit(tx, context, 'inventory.reserved', orderId, {
          order_id: orderId, user, items, total_cents, currency,
        });
      } else if (result.outcome === 'rejected') {
        emit(tx, context, 'inventory.rejected', orderId, {
          order_id: orderId, user, reason: reasonText(result.reason),
        });
      } else if (result.outcome === 'cancelled') {
        // The order ended before its creation reached us: nobody waits for an answer.
        log.info({ order_id: orderId }, 'order cancelled before its creation arrived: nothing reserved');
      }
    },

    'order.confirmed': (event, tx) => {
      const orderId = event.data.order_id;
      const result = commit(tx, orderId);
      if (result?.short.length > 0) {
        const fields = { order_id: orderId, short: result.short };
        log.warn(fields, 'oversold: the order was confirmed after its reservation expired');
      }
    },

    'order.cancelled': (event, tx) => {
      const { order_id: orderId, reason } = event.data;
      rememberCancelled(tx, orderId, reason);
      releaseAndTell(tx, { contracts }, orderId, `order cancelled: ${reason}`);
    },
  };
}
