/**
 * Events inventory emits: checked against their contract, then written to
 * the outbox inside the handler's transaction (the relay publishes them;
 * see @polyshop/common's outbox module for why).
 */
import { addToOutbox, newEvent } from '@polyshop/common';

const SOURCE = '/inventory';
const MAX_REASON = 500;

/**
 * @param {import('better-sqlite3').Database} tx the handler's transaction
 * @param {object} context the consumer's context: contracts, and the incoming headers
 */
export function emit(tx, { contracts, headers }, type, orderId, data) {
  const event = contracts.validate(newEvent(type, SOURCE, orderId, data));
  // The trace goes on: the event we emit belongs to the trace of the one we handle.
  const traceparent = headers.traceparent?.toString();
  addToOutbox(tx, {
    topic: contracts.topicOf(type),
    key: orderId,
    event,
    headers: traceparent ? { traceparent } : {},
  });
}

/** A reason within the contract's length. */
export function reasonText(text) {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}
