/**
 * The consumer loop against a real broker: dead letters, idempotency,
 * commit after the work, skipping, restart from the committed offset.
 * Every test has its own topic (one partition) and consumer group.
 *
 *   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 npm run test:integration -w libs/node
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConsumerLoop } from '../../src/consumer.js';
import { openDatabase } from '../../src/db.js';
import { TransientError } from '../../src/errors.js';
import { loadContracts } from '../../src/events.js';
import { brokersFromEnv, createKafka, createProducer } from '../../src/kafka.js';
import { createLogger } from '../../src/logger.js';
import { eventually } from '../support/eventually.js';

const BOOTSTRAP = process.env.KAFKA_BOOTSTRAP_SERVERS;
const logger = createLogger({ service: 'consumer-integration-test', level: process.env.LOG_LEVEL ?? 'fatal' });
const contracts = loadContracts();
const WAIT = { timeoutMs: 30000 };
let kafka;
let admin;
let producer;

before(async () => {
  assert.ok(BOOTSTRAP, 'KAFKA_BOOTSTRAP_SERVERS is not set: this test needs a running broker');
  kafka = createKafka({ brokers: brokersFromEnv(BOOTSTRAP), clientId: 'consumer-test', logger });
  admin = kafka.admin();
  await admin.connect();
  producer = createProducer(kafka);
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
});

function example(type) {
  const file = join(contracts.dir, 'events', 'examples', `${type}.valid.json`);
  return { ...JSON.parse(readFileSync(file, 'utf8')), id: randomUUID() };
}

async function newTopic() {
  const topic = `polyshop-consumer-test-${randomUUID()}`;
  const topics = [topic, `${topic}.dlq`].map((name) => ({ topic: name, numPartitions: 1 }));
  await admin.createTopics({ topics, waitForLeaders: true });
  return topic;
}

function send(topic, value, key = 'order-1') {
  const bytes = typeof value === 'string' ? value : JSON.stringify(value);
  return producer.send({ topic, acks: -1, messages: [{ key, value: bytes }] });
}

/** A loop whose handlers record what they applied in an `applied` table. */
function startLoop(t, topic, handlers = {}) {
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE applied (event_id TEXT, type TEXT, note TEXT)');
  const record = (event, tx, note = null) => {
    tx.prepare('INSERT INTO applied VALUES (?, ?, ?)').run(event.id, event.type, note);
  };
  const groupId = `${topic}-group`;
  const loop = createConsumerLoop({
    kafka, groupId, topics: [topic], db, contracts, producer, logger,
    handlers: { 'order.created': (event, tx) => record(event, tx), ...handlers(record) },
  });
  const records = [];
  loop.on('record', (entry) => records.push(entry));
  loop.start();
  t.after(() => loop.stop());
  const applied = () => db.prepare('SELECT * FROM applied').all();
  return { loop, db, records, applied, groupId };
}

/** Waits for the group's commit: it follows a batch, just after the batch's 'record' events. */
async function expectCommitted(groupId, topic, offset) {
  await eventually(async () => (await committedOffset(groupId, topic)) === offset, {
    ...WAIT, message: `committed offset ${offset}`,
  });
  assert.equal(await committedOffset(groupId, topic), offset);
}

async function committedOffset(groupId, topic) {
  const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return partitions[0].offset;
}

/** Reads the dead letters of a topic with a throwaway group. */
async function deadLetters(t, topic, count) {
  const consumer = kafka.consumer({
    groupId: `dlq-reader-${randomUUID()}`, sessionTimeout: 6000, heartbeatInterval: 2000, maxWaitTimeInMs: 500,
  });
  t.after(() => consumer.disconnect());
  const letters = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [`${topic}.dlq`], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => letters.push(message) });
  await eventually(() => letters.length >= count, { ...WAIT, message: `${count} dead letter(s)` });
  return letters;
}

const headerText = (message, name) => message.headers[name]?.toString();

test('when a message is not JSON, then it is dead-lettered and the next one is handled', { timeout: 60000 }, async (t) => {
  const topic = await newTopic();
  const { records, applied, groupId } = startLoop(t, topic, () => ({}));
  await send(topic, '{"broken', 'order-7');
  const valid = example('order.created');
  await send(topic, valid);
  await eventually(() => records.length === 2, WAIT);
  assert.deepEqual(records.map((entry) => entry.outcome), ['dead-lettered', 'handled']);
  assert.deepEqual(applied().map((row) => row.event_id), [valid.id]);
  const [letter] = await deadLetters(t, topic, 1);
  assert.equal(letter.key.toString(), 'order-7');
  assert.equal(letter.value.toString(), '{"broken');
  assert.match(headerText(letter, 'dlq-reason'), /not JSON/);
  assert.equal(headerText(letter, 'dlq-topic'), topic);
  assert.equal(headerText(letter, 'dlq-partition'), '0');
  assert.equal(headerText(letter, 'dlq-offset'), '0');
  assert.equal(headerText(letter, 'dlq-group'), groupId);
  await expectCommitted(groupId, topic, '2');
});

test('when an event breaks its schema, then it is dead-lettered with the reason', { timeout: 60000 }, async (t) => {
  const topic = await newTopic();
  const { records, applied } = startLoop(t, topic, () => ({}));
  const invalid = example('order.created');
  invalid.data.items[0].quantity = 0;
  await send(topic, invalid);
  await eventually(() => records.length === 1, WAIT);
  assert.equal(records[0].outcome, 'dead-lettered');
  assert.deepEqual(applied(), []);
  const [letter] = await deadLetters(t, topic, 1);
  assert.deepEqual(JSON.parse(letter.value.toString()), invalid);
  assert.match(headerText(letter, 'dlq-reason'), /\/data\/items\/0\/quantity/);
});

test('when an event is delivered twice, then the second delivery changes nothing', { timeout: 60000 }, async (t) => {
  const topic = await newTopic();
  const { records, applied, groupId } = startLoop(t, topic, () => ({}));
  const event = example('order.created');
  await send(topic, event);
  await send(topic, event);
  await eventually(() => records.length === 2, WAIT);
  assert.deepEqual(records.map((entry) => entry.outcome), ['handled', 'duplicate']);
  assert.equal(applied().length, 1);
  await expectCommitted(groupId, topic, '2');
});

test('when a type is not handled, then it is skipped and committed', { timeout: 60000 }, async (t) => {
  const topic = await newTopic();
  const { records, applied, groupId } = startLoop(t, topic, () => ({}));
  await send(topic, example('payment.authorized'));
  await eventually(() => records.length === 1, WAIT);
  assert.equal(records[0].outcome, 'skipped');
  assert.deepEqual(applied(), []);
  await expectCommitted(groupId, topic, '1');
});

test('when the handler fails with a bug, then the event is dead-lettered and the partition moves on', { timeout: 60000 }, async (t) => {
  const topic = await newTopic();
  const { records, applied, groupId } = startLoop(t, topic, (record) => ({
    'order.confirmed': (event, tx) => {
      record(event, tx, 'rolled back with the failure');
      throw new TypeError('cannot read the total');
    },
  }));
  await send(topic, example('order.confirmed'));
  const next = example('order.created');
  await send(topic, next);
  await eventually(() => records.length === 2, WAIT);
  assert.deepEqual(records.map((entry) => entry.outcome), ['dead-lettered', 'handled']);
  assert.deepEqual(applied().map((row) => row.event_id), [next.id]);
  const [letter] = await deadLetters(t, topic, 1);
  assert.equal(headerText(letter, 'dlq-reason'), 'handler failed: cannot read the total');
  await expectCommitted(groupId, topic, '2');
});

test('when the handler fails transiently, then nothing is committed until it succeeds', { timeout: 60000 }, async (t) => {
  const topic = await newTopic();
  let failing = true;
  let attempts = 0;
  const { records, applied, groupId } = startLoop(t, topic, (record) => ({
    'order.confirmed': (event, tx) => {
      attempts += 1;
      record(event, tx, 'written before the failure');
      if (failing) throw new TransientError('database busy');
    },
  }));
  await send(topic, example('order.confirmed'));
  await eventually(() => attempts >= 3, WAIT);
  assert.equal(await committedOffset(groupId, topic), '-1', 'committed while failing');
  assert.deepEqual(applied(), [], 'a failed attempt left writes behind');
  failing = false;
  await eventually(() => records.length === 1, WAIT);
  assert.equal(applied().length, 1);
  await expectCommitted(groupId, topic, '1');
});

test('when a handler prepares over the network, then apply gets the result in the transaction', { timeout: 60000 }, async (t) => {
  const topic = await newTopic();
  const { records, applied } = startLoop(t, topic, (record) => ({
    'order.cancelled': {
      prepare: async (event) => `summary of ${event.subject}`,
      apply: (event, tx, { prepared }) => record(event, tx, prepared),
    },
  }));
  const event = example('order.cancelled');
  await send(topic, event);
  await eventually(() => records.length === 1, WAIT);
  assert.equal(applied()[0].note, `summary of ${event.subject}`);
});

test('when a loop stops and another starts in its group, then it resumes after the committed offset', { timeout: 90000 }, async (t) => {
  const topic = await newTopic();
  const first = startLoop(t, topic, () => ({}));
  await send(topic, example('order.created'));
  await eventually(() => first.records.length === 1, WAIT);
  await first.loop.stop();
  assert.equal(first.loop.isRunning, false);

  await send(topic, example('order.created'));
  const second = startLoop(t, topic, () => ({}));
  await eventually(() => second.records.length === 1, WAIT);
  assert.deepEqual(second.records.map((entry) => entry.offset), ['1']);
});
