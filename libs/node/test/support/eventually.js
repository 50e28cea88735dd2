/**
 * Polling with a deadline instead of sleeping and hoping: the test goes on
 * as soon as the condition holds, and fails with a clear message if it never does.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export async function eventually(condition, { timeoutMs = 5000, intervalMs = 20, message } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`not true within ${timeoutMs} ms: ${message ?? condition.toString()}`);
    }
    await sleep(intervalMs);
  }
}
