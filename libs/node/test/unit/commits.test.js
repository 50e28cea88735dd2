/**
 * Offsets committed at intervals (src/commits.js), against a stand-in
 * commit: the loop's use of them against a real broker is in
 * test/integration/consumer.test.js.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Commits } from '../../src/commits.js';
import { createLogger } from '../../src/logger.js';

const log = createLogger({ service: 'test', level: 'silent' });

function recorder({ fails = false } = {}) {
  const calls = [];
  const commit = async (offsets) => {
    if (fails) throw new Error('the group rebalanced');
    calls.push(offsets);
  };
  return { calls, commit };
}

test('offsets done within the interval go in one commit, the last of each partition', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const { calls, commit } = recorder();
  const commits = new Commits({ commit, log, every: 200 });
  commits.done('inventory', 0, '4');
  commits.done('inventory', 0, '5');
  commits.done('inventory', 1, '9');
  t.mock.timers.tick(150);
  assert.deepEqual(calls, []);
  t.mock.timers.tick(50);
  assert.deepEqual(calls, [[
    { topic: 'inventory', partition: 0, offset: '6' },
    { topic: 'inventory', partition: 1, offset: '10' },
  ]]);
  t.mock.timers.tick(1000); // nothing pending: no round trip
  assert.equal(calls.length, 1);
});

test('a record done long after the last commit is committed at once, idle or not', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const { calls, commit } = recorder();
  const commits = new Commits({ commit, log, every: 200 });
  t.mock.timers.tick(5000);
  commits.done('payments', 0, '0');
  t.mock.timers.tick(1);
  assert.deepEqual(calls, [[{ topic: 'payments', partition: 0, offset: '1' }]]);
});

test('an offset of a partition no longer assigned is dropped, not committed', async () => {
  const { calls, commit } = recorder();
  const commits = new Commits({ commit, log });
  commits.done('inventory', 0, '4');
  commits.done('inventory', 1, '2');
  commits.done('payments', 0, '7');
  commits.assigned({ inventory: [1] });
  await commits.commit();
  assert.deepEqual(calls, [[{ topic: 'inventory', partition: 1, offset: '3' }]]);
  await commits.commit();
  assert.equal(calls.length, 1);
});

test('a refused commit is logged, not thrown, and not tried again', async () => {
  const warnings = [];
  const watching = { warn: (fields, message) => warnings.push(message) };
  const refused = recorder({ fails: true });
  const commits = new Commits({ commit: refused.commit, log: watching });
  commits.done('inventory', 0, '4');
  await commits.commit();
  assert.deepEqual(warnings, ['offset commit failed']);
  await commits.commit();
  assert.equal(warnings.length, 1);
});

test('what is forgotten is never committed', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const { calls, commit } = recorder();
  const commits = new Commits({ commit, log, every: 200 });
  commits.done('inventory', 0, '4');
  commits.forget();
  t.mock.timers.tick(1000);
  assert.deepEqual(calls, []);
});
