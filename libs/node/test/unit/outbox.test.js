import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../src/db.js';
import { createLogger } from '../../src/logger.js';
import { addToOutbox, createOutboxRelay, unsentRows } from '../../src/outbox.js';
import { eventually } from '../support/eventually.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** Records what it is asked to send; fails the next `failNext` sends. */
class FakeProducer {
  sent = [];
  failNext = 0;

  async send({ topic, acks, messages }) {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('broker not reachable');
    }
    this.sent.push(...messages.map((message) => ({ topic, acks, ...message })));
  }
}

function setUp() {
  const db = openDatabase(':memory:');
  const producer = new FakeProducer();
  const relay = createOutboxRelay({ db, producer, logger, intervalMs: 20 });
  return { db, producer, relay };
}

function add(db, topic, orderId, type) {
  addToOutbox(db, { topic, key: orderId, event: { type }, headers: { traceparent: 'tp' } });
}

test('when rows are added, then the relay publishes them in order and marks them sent', async (t) => {
  const { db, producer, relay } = setUp();
  t.after(() => relay.stop());
  add(db, 'inventory', 'o-1', 'inventory.reserved');
  add(db, 'inventory', 'o-2', 'inventory.rejected');
  add(db, 'other', 'o-1', 'x.y');
  relay.start();
  await eventually(() => unsentRows(db).length === 0);
  assert.deepEqual(producer.sent.map((m) => [m.topic, m.key, JSON.parse(m.value).type]), [
    ['inventory', 'o-1', 'inventory.reserved'],
    ['inventory', 'o-2', 'inventory.rejected'],
    ['other', 'o-1', 'x.y'],
  ]);
  assert.ok(producer.sent.every((m) => m.acks === -1 && m.headers.traceparent === 'tp'));
});

test('when the transaction that added a row rolls back, then nothing is published', async (t) => {
  const { db, producer, relay } = setUp();
  t.after(() => relay.stop());
  assert.throws(() => db.transaction(() => {
    add(db, 'inventory', 'o-1', 'inventory.reserved');
    throw new Error('the change failed');
  })());
  relay.start();
  add(db, 'inventory', 'o-2', 'inventory.rejected');
  relay.wake();
  await eventually(() => producer.sent.length === 1);
  assert.equal(producer.sent[0].key, 'o-2');
});

test('when publishing fails, then the rows stay unsent and go out once Kafka answers', async (t) => {
  const { db, producer, relay } = setUp();
  t.after(() => relay.stop());
  producer.failNext = 2;
  add(db, 'inventory', 'o-1', 'inventory.reserved');
  relay.start();
  await eventually(() => producer.sent.length === 1, { timeoutMs: 5000 });
  assert.equal(producer.failNext, 0);
  assert.equal(unsentRows(db).length, 0);
});

test('when stopped, then the relay ends and publishes nothing more', async () => {
  const { db, producer, relay } = setUp();
  relay.start();
  await relay.stop();
  add(db, 'inventory', 'o-1', 'inventory.reserved');
  relay.wake();
  assert.equal(producer.sent.length, 0);
  assert.equal(unsentRows(db).length, 1);
});
