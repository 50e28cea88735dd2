/**
 * Inventory's consumer: group "inventory" on the topics `orders` and
 * `payments` (docs/saga.md). The loop (validation, dead letters,
 * idempotency, commits) is @polyshop/common's; the handlers here hand each
 * event to the domain.
 */
import { createConsumerLoop } from '@polyshop/common';
import { SERVICE } from '../config.js';
import { orderHandlers } from './orders.js';
import { paymentHandlers } from './payments.js';

export const TOPICS = ['orders', 'payments'];

export function inventoryHandlers({ contracts, logger }) {
  return { ...orderHandlers({ contracts, logger }), ...paymentHandlers({ contracts }) };
}

export function createInventoryConsumer({
  kafka, db, contracts, producer, retryDelays, logger,
}) {
  return createConsumerLoop({
    kafka,
    groupId: SERVICE,
    topics: TOPICS,
    handlers: inventoryHandlers({ contracts, logger }),
    db,
    contracts,
    producer,
    retryDelays,
    logger,
  });
}
