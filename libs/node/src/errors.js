/**
 * Errors that mean "try again later", shared by every retry loop.
 *
 * A Kafka handler that fails, with a `TransientError` (or one let through,
 * such as `ServiceUnavailable` from a service call, or SQLite's "busy") or
 * any other error, has its event moved to a retry topic (docs/saga.md,
 * "Retries"); a transient one is logged as such, without a stack. Service
 * calls and the registry client retry what is transient in place. The
 * Python twin (`polyshop_common.errors`) draws the same line.
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
