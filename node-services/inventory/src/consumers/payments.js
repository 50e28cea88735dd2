/**
 * Events of the `payments` topic, as inventory handles them.
 */
import { releaseAndTell } from './outgoing.js';

/** @param {{contracts: import('@polyshop/common').Contracts}} deps */
export function paymentHandlers({ contracts }) {
  return {
    'payment.declined': (event, tx) => {
      const { order_id: orderId, reason } = event.data;
      releaseAndTell(tx, { contracts }, orderId, `payment declined: ${reason}`);
    },
  };
}
