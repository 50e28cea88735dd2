/**
 * Reservation expiry: stock held longer than its time to live goes back on
 * sale, without waiting for anyone.
 *
 * Inventory cannot count on hearing the end of every order: orders may be
 * down when its saga timeout should fire, or the `order.cancelled` may be
 * stuck. So a timer sweeps once a second and releases each reservation
 * still HELD after `INVENTORY_RESERVATION_TTL_SECONDS` (available += q,
 * reserved -= q), emitting `inventory.released` with reason
 * `reservation expired`, each in a transaction of its own. Its time to
 * live is longer than orders' saga timeout, so normally the order's
 * cancellation releases first and the sweep finds nothing. A release
 * happens only from HELD (domain/reservations.js), so the sweep and an
 * `order.cancelled` never both release one reservation. A runService
 * helper: started before the consumer, stopped after it on shutdown.
 */
import { heldSince, RESERVATION_EXPIRED } from './domain/reservations.js';
import { releaseAndTell } from './consumers/outgoing.js';

const SWEEP_MS = 1000;

/**
 * @param {object} deps
 * @param {import('better-sqlite3').Database} deps.db
 * @param {import('@polyshop/common').Contracts} deps.contracts checks what is emitted
 * @param {import('pino').Logger} deps.logger
 * @param {number} deps.ttlSeconds from config.reservationTtlSeconds
 * @param {() => void} [deps.onReleased] after a sweep released something (wake the relay)
 * @param {() => number} [deps.now] the clock, in milliseconds since the epoch
 */
export function createExpirySweeper({
  db, contracts, logger, ttlSeconds, onReleased = () => {}, intervalMs = SWEEP_MS, now = Date.now,
}) {
  const log = logger.child({ component: 'reservation-expiry' });
  let timer = null;

  /** @returns {string[]} the orders whose reservation this sweep released */
  function sweep() {
    const cutoff = new Date(now() - ttlSeconds * 1000).toISOString();
    const released = heldSince(db, cutoff).filter((orderId) => db.transaction(() => (
      releaseAndTell(db, { contracts }, orderId, RESERVATION_EXPIRED)
    )).immediate());
    if (released.length > 0) {
      log.info({ orders: released }, 'reservations expired');
      onReleased();
    }
    return released;
  }

  function tick() {
    try {
      sweep();
    } catch (error) {
      // The database busy or locked, say: the next tick tries again.
      log.warn({ err: error }, 'reservation expiry sweep failed; trying again');
    }
  }

  return {
    sweep,
    get isRunning() {
      return timer !== null;
    },
    start() {
      timer ??= setInterval(tick, intervalMs);
    },
    stop() {
      clearInterval(timer);
      timer = null;
    },
  };
}
