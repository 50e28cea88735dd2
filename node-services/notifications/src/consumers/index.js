/**
 * Notifications' consumer: group "notifications" on the topic `orders`
 * (docs/saga.md). The loop (validation, dead letters, idempotency, commits)
 * is @polyshop/common's; the handlers hand each event to the domain, and
 * put what notifications emits (notification.sent) into the outbox.
 */
import { createConsumerLoop } from '@polyshop/common';
import { SERVICE } from '../config.js';
import { orderHandlers } from './orders.js';

export const TOPICS = ['orders'];

export function createNotificationsConsumer({
  kafka, db, contracts, producer, retryDelays, orders, serviceTokens, logger,
}) {
  return createConsumerLoop({
    kafka,
    groupId: SERVICE,
    topics: TOPICS,
    handlers: orderHandlers({ orders, serviceTokens, contracts, logger }),
    db,
    contracts,
    producer,
    retryDelays,
    logger,
  });
}
