/**
 * Where a failed record goes and what it carries there (docs/saga.md,
 * "Retries"): the header names and reason texts the Python library shares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadContracts } from '../../src/events.js';
import {
  afterFailure, deadLetter, dueAt, headerText, isForeign, parseRetryDelays,
} from '../../src/retries.js';

const contracts = loadContracts();
const NOW = 1_800_000_000_000;
const DELAYS = [1, 10, 60];
const options = { contracts, groupId: 'inventory', delays: DELAYS, now: NOW };

const text = (headers) => Object.fromEntries(
  Object.entries(headers).map(([name, value]) => [name, value.toString()]),
);

/** A record as the loop reads it: kafkajs gives header values as Buffers. */
function record(topic, headers = {}, offset = '7') {
  const buffers = Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)]);
  return { topic, partition: 2, offset, headers: Object.fromEntries(buffers) };
}

test('when delays are listed, then they are seconds in order', () => {
  assert.deepEqual(parseRetryDelays('1,10,60', 3), [1, 10, 60]);
  assert.deepEqual(parseRetryDelays(' 0.2, 0.4 ', 3), [0.2, 0.4]);
});

test('when the delays say none, then there are no retries', () => {
  assert.deepEqual(parseRetryDelays('none', 3), []);
  assert.deepEqual(parseRetryDelays('None', 3), []);
});

for (const bad of ['1,,60', 'soon', '1,-5', '0', '1,Infinity']) {
  test(`when the delays are "${bad}", then the bad value is named`, () => {
    assert.throws(() => parseRetryDelays(bad, 3), /is not a positive number of seconds/);
  });
}

test('when there are more delays than retry topics, then they are refused', () => {
  assert.throws(() => parseRetryDelays('1,2,3,4', 3), /4 delays, but each topic has only 3 retry topics/);
});

test('when a header is repeated, then the last value is read', () => {
  const headers = { attempt: [Buffer.from('2'), Buffer.from('3')], 'retry-group': Buffer.from('g') };
  assert.equal(headerText(headers, 'attempt'), '3');
  assert.equal(headerText(headers, 'retry-group'), 'g');
  assert.equal(headerText(headers, 'missing'), undefined);
});

test('when attempt 1 fails, then the copy goes to retry level 1 with where it was first read', () => {
  const step = afterFailure(record('orders', { traceparent: 'tp' }), { ...options, reason: 'handler failed: busy' });
  assert.equal(step.outcome, 'retried');
  assert.equal(step.topic, 'orders.retry.1');
  assert.deepEqual(text(step.headers), {
    traceparent: 'tp',
    'retry-group': 'inventory',
    attempt: '2',
    'retry-due': String(NOW + 1000),
    'attempt-1-reason': 'handler failed: busy',
    'original-topic': 'orders',
    'original-partition': '2',
    'original-offset': '7',
  });
});

test('when attempt 2 fails, then earlier reasons and the original coordinates stay', () => {
  const first = afterFailure(record('orders'), { ...options, reason: 'first' });
  const copy = { ...record('orders.retry.1', {}, '0'), headers: first.headers };
  const step = afterFailure(copy, { ...options, reason: 'second' });
  assert.equal(step.topic, 'orders.retry.2');
  const headers = text(step.headers);
  assert.equal(headers.attempt, '3');
  assert.equal(headers['retry-due'], String(NOW + 10000));
  assert.equal(headers['attempt-1-reason'], 'first');
  assert.equal(headers['attempt-2-reason'], 'second');
  assert.equal(headers['original-topic'], 'orders');
  assert.equal(headers['original-offset'], '7');
});

test('when the last attempt fails, then the record is dead-lettered with every reason', () => {
  const copy = record('orders.retry.3', {
    'attempt-1-reason': 'a', 'attempt-2-reason': 'b', 'attempt-3-reason': 'c',
    'original-topic': 'orders', 'original-partition': '1', 'original-offset': '42',
  }, '5');
  const step = afterFailure(copy, { ...options, reason: 'd' });
  assert.equal(step.outcome, 'dead-lettered');
  assert.equal(step.topic, 'orders.dlq');
  assert.equal(step.reason, 'gave up after 4 attempts: d');
  const headers = text(step.headers);
  assert.deepEqual(
    ['attempt-1-reason', 'attempt-2-reason', 'attempt-3-reason', 'attempt-4-reason'].map((name) => headers[name]),
    ['a', 'b', 'c', 'd'],
  );
  assert.equal(headers['dlq-reason'], 'gave up after 4 attempts: d');
  assert.equal(headers['dlq-topic'], 'orders');
  assert.equal(headers['dlq-partition'], '1');
  assert.equal(headers['dlq-offset'], '42');
  assert.equal(headers['dlq-group'], 'inventory');
});

test('when fewer delays are configured, then the record gives up after fewer attempts', () => {
  const step = afterFailure(record('payments.retry.1'), { ...options, delays: [1], reason: 'x' });
  assert.equal(step.topic, 'payments.dlq');
  assert.equal(step.reason, 'gave up after 2 attempts: x');
});

test('when retries are off, then a failure is dead-lettered at once with its own reason', () => {
  const step = afterFailure(record('orders'), { ...options, delays: [], reason: 'handler failed: bug' });
  assert.equal(step.topic, 'orders.dlq');
  assert.equal(step.reason, 'handler failed: bug');
  const headers = text(step.headers);
  assert.equal(headers['dlq-reason'], 'handler failed: bug');
  assert.equal(headers['dlq-offset'], '7');
  assert.equal(headers['attempt-1-reason'], undefined);
});

test('when a retry record is dead-lettered for another reason, then it points at its original topic', () => {
  const copy = record('orders.retry.2', { 'original-topic': 'orders', 'original-offset': '3' }, '9');
  const step = deadLetter(copy, { contracts, groupId: 'inventory', reason: 'expired' });
  assert.equal(step.topic, 'orders.dlq');
  const headers = text(step.headers);
  assert.deepEqual(
    [headers['dlq-topic'], headers['dlq-partition'], headers['dlq-offset'], headers['dlq-reason']],
    ['orders', '2', '3', 'expired'],
  );
});

test('when a retry record names another group, then it is foreign; without a group it is not', () => {
  assert.equal(isForeign(record('orders.retry.1', { 'retry-group': 'payments' }).headers, 'inventory'), true);
  assert.equal(isForeign(record('orders.retry.1', { 'retry-group': 'inventory' }).headers, 'inventory'), false);
  assert.equal(isForeign({}, 'inventory'), false);
});

test('when retry-due is within the delay, then it is the due time', () => {
  const { headers } = record('orders.retry.1', { 'retry-due': String(NOW + 500) });
  assert.equal(dueAt(headers, String(NOW), 1), NOW + 500);
});

test('when retry-due is far away or missing, then the due time is the delay after the record was written', () => {
  const far = record('orders.retry.1', { 'retry-due': String(NOW + 86_400_000) });
  assert.equal(dueAt(far.headers, String(NOW), 10), NOW + 10_000);
  assert.equal(dueAt({}, String(NOW), 0.2), NOW + 200);
  assert.equal(dueAt(record('t', { 'retry-due': 'soon' }).headers, String(NOW), 1), NOW + 1000);
});
