/**
 * Loyalty's consumer: group "loyalty" on the topic `orders`. The loop is
 * @polyshop/common's: it validates each event, runs the handler in one
 * SQLite transaction together with the insert of the event's id into
 * processed_events, and commits the offset after. An event seen again (a
 * redelivery, a replayed copy) finds its id there: the handler does not
 * run, and the loop counts the record as a duplicate.
 *
 * Only order.confirmed earns points; the loop skips the other types.
 */
import { createConsumerLoop } from '@polyshop/common';
import { SERVICE } from '../config.js';
import { award } from '../domain/points.js';

export const TOPICS = ['orders'];

export function createLoyaltyConsumer({ kafka, db, contracts, producer, retryDelays, logger }) {
  return createConsumerLoop({
    kafka,
    groupId: SERVICE,
    topics: TOPICS,
    handlers: {
      'order.confirmed': (event, tx) => award(tx, event.data),
    },
    db,
    contracts,
    producer,
    retryDelays,
    logger,
  });
}
