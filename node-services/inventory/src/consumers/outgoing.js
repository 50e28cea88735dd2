/**
 * Events inventory emits: checked against their contract, then written to
 * the outbox inside the handler's transaction (the relay publishes them;
 * see @polyshop/common's outbox module for why), in the trace of the event
 * being handled. The expiry sweeper emits through here too, in a
 * transaction of its own, and each of its events starts a trace.
 */
import { emitEvent } from '@polyshop/common';
import { release } from '../domain/reservations.js';

const SOURCE = '/inventory';
const MAX_REASON = 500;

/**
 * @param {import('better-sqlite3').Database} tx the handler's transaction
 * @param {{contracts: import('@polyshop/common').Contracts}} context
 */
export function emit(tx, context, type, orderId, data) {
  emitEvent(tx, context, { type, source: SOURCE, subject: orderId, data });
}

/** A reason within the contract's length. */
export function reasonText(text) {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/**
 * Releases a reservation still held and says so; nothing if none was held.
 * @returns {object[] | null} the released lines
 */
export function releaseAndTell(tx, context, orderId, reason) {
  const text = reasonText(reason);
  const lines = release(tx, orderId, text);
  if (!lines) return null;
  emit(tx, context, 'inventory.released', orderId, { order_id: orderId, items: lines, reason: text });
  return lines;
}
