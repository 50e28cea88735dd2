/**
 * Events inventory emits: checked against their contract, then written to
 * the outbox inside the handler's transaction (the relay publishes them;
 * see @polyshop/common's outbox module for why).
 */
import { emitEvent } from '@polyshop/common';

const SOURCE = '/inventory';
const MAX_REASON = 500;

/**
 * @param {import('better-sqlite3').Database} tx the handler's transaction
 * @param {object} context the consumer's context: contracts, and the incoming headers
 */
export function emit(tx, context, type, orderId, data) {
  emitEvent(tx, context, { type, source: SOURCE, subject: orderId, data });
}

/** A reason within the contract's length. */
export function reasonText(text) {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}
