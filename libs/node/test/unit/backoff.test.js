import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../../src/backoff.js';

test('when retrying, then each delay lies between half the ceiling and the ceiling', () => {
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const ceiling = 0.2 * 2 ** attempt;
    for (let i = 0; i < 200; i += 1) {
      const delay = backoffDelay(attempt);
      assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
    }
  }
});

test('when many retries failed, then the delay never exceeds the maximum', () => {
  for (let i = 0; i < 200; i += 1) {
    const delay = backoffDelay(50, { maximum: 2 });
    assert.ok(delay >= 1 && delay <= 2, String(delay));
  }
});

test('when options are given, then initial and factor shape the ceiling', () => {
  const delay = backoffDelay(2, { initial: 1, factor: 3, maximum: 100 });
  assert.ok(delay >= 4.5 && delay <= 9, String(delay));
});
