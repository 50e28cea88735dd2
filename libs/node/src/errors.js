/**
 * Errors that mean "try again later", shared by every retry loop.
 *
 * A Kafka handler that throws a `TransientError` (or lets one through, such
 * as `ServiceUnavailable` from a service call, or SQLite's "busy") has its
 * event retried with backoff and its offset left uncommitted; any other
 * error is a bug or an event the handler cannot take, and the event is
 * dead-lettered so the partition moves on. The Python twin
 * (`polyshop_common.errors`) draws the same line.
 */

/** A failure that may pass: a broker, a service or the database is busy or away. */
export class TransientError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

const BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

/**
 * @returns {boolean} true for a TransientError, an error marked
 *   `transient: true` (a 5xx answer), or SQLite busy/locked
 */
export function isTransient(error) {
  if (error instanceof TransientError || error?.transient === true) return true;
  return BUSY_CODES.has(String(error?.code).split('_').slice(0, 2).join('_'));
}
