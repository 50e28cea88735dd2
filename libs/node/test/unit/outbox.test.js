import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db.js';
import { createLogger } from '../../src/logger.js';
import {
  addToOutbox, createOutboxRelay, leaseHolder, takeLease, unsentRows,
} from '../../src/outbox.js';
import { eventually } from '../support/eventually.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** Records what it is asked to send; fails the next `failNext` sends. */
class FakeProducer {
  sent = [];
  failNext = 0;
  onSend = async () => {};

  async send({ topic, acks, messages }) {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('broker not reachable');
    }
    this.sent.push(...messages.map((message) => ({ topic, acks, ...message })));
    await this.onSend();
  }
}

function setUp() {
  const db = openDatabase(':memory:');
  const producer = new FakeProducer();
  const relay = createOutboxRelay({ db, producer, logger, intervalMs: 20 });
  return { db, producer, relay };
}

function add(db, topic, orderId, type) {
  addToOutbox(db, { topic, key: orderId, event: { type } });
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
  assert.ok(producer.sent.every((m) => m.acks === -1));
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

// The lease: one relay at a time per database file

/** Milliseconds since the epoch, moved by the test; counts how often it was read. */
function fakeClock(now = 1_700_000_000_000) {
  const clock = () => {
    clock.reads += 1;
    return clock.now;
  };
  return Object.assign(clock, { now, reads: 0 });
}

/** A database file, and a way to open more connections to it, as other instances do. */
function sharedFile(t) {
  const dir = mkdtempSync(join(tmpdir(), 'polyshop-outbox-'));
  const connections = [];
  const open = () => {
    const db = openDatabase(join(dir, 'service.db'));
    connections.push(db);
    return db;
  };
  t.after(() => {
    for (const db of connections) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return open;
}

function relayOn(db, options = {}) {
  const producer = new FakeProducer();
  const relay = createOutboxRelay({ db, producer, logger, intervalMs: 10, ...options });
  return { db, producer, relay };
}

const numbers = (producer) => producer.sent.map((m) => JSON.parse(m.value).n);

function addNumbered(db, n) {
  addToOutbox(db, { topic: 'inventory', key: 'o-1', event: { n } });
}

test('when two relays share a database file, then each row goes out once, in order', async (t) => {
  const open = sharedFile(t);
  const both = [relayOn(open()), relayOn(open())];
  t.after(() => Promise.all(both.map(({ relay }) => relay.stop())));
  both.forEach(({ relay }) => relay.start());
  const db = open();
  for (let n = 0; n < 40; n += 1) {
    addNumbered(db, n);
    both.forEach(({ relay }) => relay.wake());
  }
  await eventually(() => unsentRows(db).length === 0);
  const published = both.map(({ producer }) => numbers(producer));
  published.sort((a, b) => a.length - b.length);
  assert.deepEqual(published, [[], Array.from({ length: 40 }, (_, n) => n)]);
});

test('when one relay is in the middle of a pass, then the other publishes nothing', async (t) => {
  const open = sharedFile(t);
  const first = relayOn(open());
  const second = relayOn(open());
  [0, 1, 2].forEach((n) => addNumbered(first.db, n));
  const during = [];
  // The rows are handed to Kafka but not yet marked sent when the other relay looks.
  first.producer.onSend = async () => during.push(await second.relay.publishPending());
  assert.equal(await first.relay.publishPending(), 3);
  assert.deepEqual(during, [0]);
  assert.deepEqual([numbers(first.producer), numbers(second.producer)], [[0, 1, 2], []]);
});

test('when a relay publishes, then it holds the lease', async (t) => {
  const { db, relay } = relayOn(sharedFile(t)());
  assert.equal(relay.holdsLease, false);
  await relay.publishPending();
  assert.equal(relay.holdsLease, true);
  assert.equal(leaseHolder(db), relay.holder);
});

test('when the holder stops, then the other relay takes over at once', async (t) => {
  const open = sharedFile(t);
  // A lease far longer than the test: only its release can explain a takeover.
  const holder = relayOn(open(), { leaseMs: 600_000 });
  const clock = fakeClock(Date.now());
  const waiting = relayOn(open(), { leaseMs: 600_000, clock });
  t.after(() => Promise.all([holder.relay.stop(), waiting.relay.stop()]));
  holder.relay.start();
  await eventually(() => holder.relay.holdsLease);
  waiting.relay.start();
  addNumbered(holder.db, 0);
  await eventually(() => holder.producer.sent.length === 1 && clock.reads >= 3);
  assert.equal(waiting.relay.holdsLease, false);
  await holder.relay.stop();
  // Handed back, not left to expire (the other relay may have it already).
  assert.ok([null, waiting.relay.holder].includes(leaseHolder(holder.db)));
  addNumbered(holder.db, 1);
  waiting.relay.wake();
  await eventually(() => waiting.producer.sent.length === 1);
  assert.equal(waiting.relay.holdsLease, true);
  assert.deepEqual([numbers(holder.producer), numbers(waiting.producer)], [[0], [1]]);
});

test('when the holder dies, then another relay takes over once the lease expires', async (t) => {
  const open = sharedFile(t);
  const clock = fakeClock();
  const dead = relayOn(open(), { leaseMs: 5000, clock });
  await dead.relay.publishPending(); // takes the lease, then never renews it again
  const survivor = relayOn(open(), { leaseMs: 5000, clock });
  addNumbered(survivor.db, 0);
  clock.now += 4900;
  assert.equal(await survivor.relay.publishPending(), 0);
  assert.equal(survivor.relay.holdsLease, false);
  clock.now += 200;
  assert.equal(await survivor.relay.publishPending(), 1);
  assert.equal(survivor.relay.holdsLease, true);
  assert.equal(leaseHolder(survivor.db), survivor.relay.holder);
});

test('when a relay loses its lease mid-pass, then it marks nothing and stops', async (t) => {
  const open = sharedFile(t);
  const clock = fakeClock();
  const { db, producer, relay } = relayOn(open(), { leaseMs: 5000, clock });
  const other = open();
  [0, 1, 2].forEach((n) => addNumbered(db, n));
  producer.onSend = async () => {
    // The pass stalled past the lease; another relay found it expired.
    takeLease(other, 'other-host/2/0', clock.now + 6000, 5000);
    producer.onSend = async () => {};
  };
  assert.equal(await relay.publishPending(), 0);
  assert.equal(relay.holdsLease, false);
  assert.equal(unsentRows(db).length, 3); // the new holder publishes them again
  assert.deepEqual(numbers(producer), [0, 1, 2]);
});

test('when relays are made, then their holder ids name the process and differ', () => {
  const db = openDatabase(':memory:');
  const [first, second] = [relayOn(db).relay, relayOn(db).relay];
  assert.notEqual(first.holder, second.holder);
  assert.deepEqual(first.holder.split('/').slice(0, 2), [hostname(), String(process.pid)]);
});
