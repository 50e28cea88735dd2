/**
 * The event contracts: every example in contracts/events/examples passes or
 * fails as its name says, and every event type has both examples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findContractsDir, InvalidEvent, loadContracts, newEvent } from '../../src/events.js';

const contracts = loadContracts();
const examplesDir = join(contracts.dir, 'events', 'examples');
const examples = readdirSync(examplesDir).filter((name) => name.endsWith('.json')).sort();

function readExample(name) {
  return JSON.parse(readFileSync(join(examplesDir, name), 'utf8'));
}

test('when no folder is given, then the contracts are found in the repository', () => {
  assert.equal(contracts.dir, findContractsDir());
  assert.ok(contracts.types.includes('order.created'));
});

test('when an event type has a schema, then it has a valid and an invalid example', () => {
  for (const type of contracts.types) {
    assert.ok(examples.includes(`${type}.valid.json`), `${type}.valid.json is missing`);
    assert.ok(examples.includes(`${type}.invalid.json`), `${type}.invalid.json is missing`);
  }
});

for (const name of examples.filter((file) => file.endsWith('.valid.json'))) {
  test(`when validating ${name}, then it passes`, () => {
    assert.doesNotThrow(() => contracts.validate(readExample(name)));
  });
}

for (const name of examples.filter((file) => file.endsWith('.invalid.json'))) {
  test(`when validating ${name}, then it fails with a reason`, () => {
    assert.throws(() => contracts.validate(readExample(name)), (error) => {
      assert.ok(error instanceof InvalidEvent);
      assert.match(error.reason, /\S/);
      return true;
    });
  });
}

test('when a message is not JSON, then parse throws InvalidEvent', () => {
  assert.throws(() => contracts.parse(Buffer.from('{not json')), { name: 'InvalidEvent', message: /not JSON/ });
});

test('when an event has an unknown type, then it is invalid', () => {
  const event = { ...readExample('order.created.valid.json'), type: 'order.teleported' };
  assert.throws(() => contracts.validate(event), { reason: /unknown event type "order.teleported"/ });
});

test('when a field is wrong, then the reason names where', () => {
  const event = readExample('order.created.valid.json');
  event.data.items[0].quantity = 0;
  assert.throws(() => contracts.validate(event), { reason: /\/data\/items\/0\/quantity/ });
});

test('when newEvent builds an event, then it is valid against its schema', () => {
  const orderId = '0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10';
  const event = newEvent('inventory.rejected', '/inventory', orderId, {
    order_id: orderId, user: 'alice', reason: 'not enough stock for TEA-SENCHA',
  });
  assert.doesNotThrow(() => contracts.validate(event));
  assert.match(event.id, /^[0-9a-f-]{36}$/);
  assert.ok(!Number.isNaN(Date.parse(event.time)));
});

test('when asked for the topic of a type, then topics.json answers', () => {
  assert.equal(contracts.topicOf('inventory.reserved'), 'inventory');
  assert.equal(contracts.topicOf('payment.declined'), 'payments');
  assert.equal(contracts.deadLetterSuffix, '.dlq');
});

test('when checking an event fails in an unexpected way, then it is an invalid event, not a crash', () => {
  const contracts = loadContracts();
  // What a value nested deeper than the stack does to a validator.
  contracts.validate = () => {
    throw new RangeError('Maximum call stack size exceeded');
  };
  assert.throws(() => contracts.parse('{"type": "order.created"}'), (error) => (
    error instanceof InvalidEvent && error.reason === 'unreadable: RangeError'
  ));
});

test('when a record nests JSON a hundred thousand levels deep, then it is an invalid event', () => {
  const deep = `{"type": "order.created", "data": ${'['.repeat(100000)}${']'.repeat(100000)}}`;
  assert.throws(() => loadContracts().parse(deep), InvalidEvent);
});

test('when a topic is named, then its retry topics come from topics.json', () => {
  assert.equal(contracts.retryTopic('orders', 2), 'orders.retry.2');
  assert.deepEqual(contracts.retryTopics(['orders', 'payments'], 2), [
    'orders.retry.1', 'orders.retry.2', 'payments.retry.1', 'payments.retry.2',
  ]);
  assert.equal(contracts.retryTopics(['orders']).length, contracts.retryLevels);
});

test('when a topic is a retry topic, then its origin and level are known', () => {
  assert.deepEqual(contracts.originOf('orders.retry.3'), { topic: 'orders', level: 3 });
  assert.deepEqual(contracts.originOf('orders'), { topic: 'orders', level: 0 });
  assert.deepEqual(contracts.originOf('orders.retry.9'), { topic: 'orders.retry.9', level: 0 });
  assert.deepEqual(contracts.originOf('orders.dlq'), { topic: 'orders.dlq', level: 0 });
});

test('when a type has a time to live, then an older event is expired and a younger one not', () => {
  const ttl = contracts.ttlOf('order.created');
  assert.equal(ttl, 600);
  const now = Date.parse('2026-11-27T10:15:00.000Z');
  const at = (ms) => ({ type: 'order.created', time: new Date(now - ms).toISOString() });
  assert.equal(contracts.isExpired(at(ttl * 1000 + 1), now), true);
  assert.equal(contracts.isExpired(at(ttl * 1000), now), false);
  assert.equal(contracts.isExpired(at(-60_000), now), false);
});

test('when a type has no time to live, then its events never expire', () => {
  assert.equal(contracts.ttlOf('order.confirmed'), undefined);
  assert.equal(contracts.isExpired({ type: 'order.confirmed', time: '2000-01-01T00:00:00Z' }), false);
});
