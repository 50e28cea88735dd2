/**
 * Events of the `orders` topic, as inventory handles them.
 */
import { commit, release, reserve } from '../domain/reservations.js';
import { emit, reasonText } from './outgoing.js';

/** @param {{contracts: import('@polyshop/common').Contracts}} deps */
export function orderHandlers({ contracts }) {
  return {
    'order.created': (event, tx, { headers }) => {
      const { order_id: orderId, user, items, total_cents, currency } = event.data;
      const result = reserve(tx, { orderId, user, items });
      const context = { contracts, headers };
      if (result.outcome === 'reserved') {
        emit(tx, context, 'inventory.reserved', orderId, {
          order_id: orderId, user, items, total_cents, currency,
        });
      } else if (result.outcome === 'rejected') {
        emit(tx, context, 'inventory.rejected', orderId, {
          order_id: orderId, user, reason: reasonText(result.reason),
        });
      }
    },

    'order.confirmed': (event, tx) => {
      commit(tx, event.data.order_id);
    },

    'order.cancelled': (event, tx, { headers }) => {
      const { order_id: orderId, reason } = event.data;
      releaseAndTell(tx, { contracts, headers }, orderId, `order cancelled: ${reason}`);
    },
  };
}

/** Releases a reservation still held and says so; nothing if none was held. */
export function releaseAndTell(tx, context, orderId, reason) {
  const text = reasonText(reason);
  const lines = release(tx, orderId, text);
  if (!lines) return;
  const data = { order_id: orderId, items: lines, reason: text };
  emit(tx, context, 'inventory.released', orderId, data);
}
