/**
 * Exponential backoff with full jitter, shared by every retry loop.
 *
 * The jitter matters when many clients failed together (a registry restart):
 * spread over [ceiling/2, ceiling] they come back one by one instead of
 * knocking at the same instant.
 *
 * @param {number} attempt 0 for the first retry, 1 for the second, ...
 * @returns {number} seconds to wait before that retry
 */
export function backoffDelay(attempt, { initial = 0.2, maximum = 5, factor = 2 } = {}) {
  const ceiling = Math.min(maximum, initial * factor ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
