/**
 * The consumer loop against a real broker: dead letters, idempotency,
 * commit after the work, skipping, restart from the committed offset,
 * retries through the retry topics, expiry, and what the loop measures.
 * Every test has its own topic
 * (one partition, with its dead-letter and retry topics) and consumer group.
 *
 *   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 npm run test:integration -w libs/node
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createConsumerLoop } from '../../src/consumer.js';
import { openDatabase } from '../../src/db.js';
import { loadContracts } from '../../src/events.js';
import { createLogger } from '../../src/logger.js';
import { metric, metricsContract } from '../../src/metrics.js';
import { connectBroker, exampleEvent, newTopic, readTopic } from '../support/broker.js';
import { eventually } from '../support/eventually.js';

const logger = createLogger({ service: 'consumer-integration-test', level: process.env.LOG_LEVEL ?? 'fatal' });
const contracts = loadContracts();
const WAIT = { timeoutMs: 30000 };
// Short enough for a test, long enough to tell "waited" from "did not".
const QUICK_RETRIES = [0.2, 0.4, 0.6];
let kafka;
let admin;
let producer;
let broker;

before(async () => {
  broker = await connectBroker('consumer-test', logger);
  ({ kafka, admin, producer } = broker);
});

after(() => broker?.close());


function send(topic, value, key = 'order-1', headers = {}) {
  const bytes = typeof value === 'string' ? value : JSON.stringify(value);
  return producer.send({ topic, acks: -1, messages: [{ key, value: bytes, headers }] });
}

/**
 * A loop whose handlers record what they applied in an `applied` table;
 * `records` are its 'record' events, each with the time it came (`at`).
 */
function startLoop(t, topic, handlers = () => ({}), options = {}) {
  const { retryDelays = QUICK_RETRIES, loopProducer = producer, loopLogger = logger } = options;
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE applied (event_id TEXT, type TEXT, note TEXT)');
  const record = (event, tx, note = null) => {
    tx.prepare('INSERT INTO applied VALUES (?, ?, ?)').run(event.id, event.type, note);
  };
  const groupId = `${topic}-group`;
  const loop = createConsumerLoop({
    kafka, groupId, topics: [topic], db, contracts, producer: loopProducer, retryDelays,
    logger: loopLogger,
    handlers: { 'order.created': (event, tx) => record(event, tx), ...handlers(record) },
  });
  const records = [];
  loop.on('record', (entry) => records.push({ ...entry, at: Date.now() }));
  loop.start();
  t.after(() => loop.stop());
  const applied = () => db.prepare('SELECT * FROM applied').all();
  return { loop, db, records, applied, groupId };
}

/** Waits for the group's commit: it follows a batch, just after the batch's 'record' events. */
async function expectCommitted(groupId, topic, offset) {
  await eventually(async () => (await committedOffset(groupId, topic)) === offset, {
    ...WAIT, message: `committed offset ${offset} on ${topic}`,
  });
  assert.equal(await committedOffset(groupId, topic), offset);
}

async function committedOffset(groupId, topic) {
  const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return partitions[0].offset;
}


function deadLetters(t, topic, count) {
  return readTopic(kafka, t, `${topic}.dlq`, count);
}

const headerText = (message, name) => message.headers[name]?.toString();
const of = (records, event) => records.filter((entry) => entry.event?.id === event.id);

test('when a message is not JSON, then it is dead-lettered and the next one is handled', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, applied, groupId } = startLoop(t, topic, () => ({}));
  await send(topic, '{"broken', 'order-7');
  const valid = exampleEvent(contracts, 'order.created');
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
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, applied } = startLoop(t, topic, () => ({}));
  const invalid = exampleEvent(contracts, 'order.created');
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
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, applied, groupId } = startLoop(t, topic, () => ({}));
  const event = exampleEvent(contracts, 'order.created');
  await send(topic, event);
  await send(topic, event);
  await eventually(() => records.length === 2, WAIT);
  assert.deepEqual(records.map((entry) => entry.outcome), ['handled', 'duplicate']);
  assert.equal(applied().length, 1);
  await expectCommitted(groupId, topic, '2');
});

test('when a type is not handled, then it is skipped and committed', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, applied, groupId } = startLoop(t, topic, () => ({}));
  await send(topic, exampleEvent(contracts, 'payment.authorized'));
  await eventually(() => records.length === 1, WAIT);
  assert.equal(records[0].outcome, 'skipped');
  assert.deepEqual(applied(), []);
  await expectCommitted(groupId, topic, '1');
});

test('when retries are off and the handler fails, then the event is dead-lettered and the partition moves on', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, applied, groupId } = startLoop(t, topic, (record) => ({
    'order.confirmed': (event, tx) => {
      record(event, tx, 'rolled back with the failure');
      throw new TypeError('cannot read the total');
    },
  }), { retryDelays: [] });
  await send(topic, exampleEvent(contracts, 'order.confirmed'));
  const next = exampleEvent(contracts, 'order.created');
  await send(topic, next);
  await eventually(() => records.length === 2, WAIT);
  assert.deepEqual(records.map((entry) => entry.outcome), ['dead-lettered', 'handled']);
  assert.deepEqual(applied().map((row) => row.event_id), [next.id]);
  const [letter] = await deadLetters(t, topic, 1);
  assert.equal(headerText(letter, 'dlq-reason'), 'handler failed: TypeError: cannot read the total');
  await expectCommitted(groupId, topic, '2');
});

test('when a handler prepares over the network, then apply gets the result in the transaction', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, applied } = startLoop(t, topic, (record) => ({
    'order.cancelled': {
      prepare: async (event) => `summary of ${event.subject}`,
      apply: (event, tx, { prepared }) => record(event, tx, prepared),
    },
  }));
  const event = exampleEvent(contracts, 'order.cancelled');
  await send(topic, event);
  await eventually(() => records.length === 1, WAIT);
  assert.equal(applied()[0].note, `summary of ${event.subject}`);
});

test('when a loop stops and another starts in its group, then it resumes after the committed offset', { timeout: 90000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const first = startLoop(t, topic, () => ({}));
  await send(topic, exampleEvent(contracts, 'order.created'));
  await eventually(() => first.records.length === 1, WAIT);
  await first.loop.stop();
  assert.equal(first.loop.isRunning, false);

  await send(topic, exampleEvent(contracts, 'order.created'));
  const second = startLoop(t, topic, () => ({}));
  await eventually(() => second.records.length === 1, WAIT);
  assert.deepEqual(second.records.map((entry) => entry.offset), ['1']);
});

test('when a handler fails twice then succeeds, then the event goes through two retry topics while the partition moves on', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const attempts = [];
  const { records, applied, groupId } = startLoop(t, topic, (record) => ({
    'order.confirmed': (event, tx, context) => {
      attempts.push({ at: Date.now(), headers: context.headers });
      record(event, tx, 'rolled back with the failure');
      if (attempts.length <= 2) throw new Error(`not yet (${attempts.length})`);
    },
  }));
  const failing = exampleEvent(contracts, 'order.confirmed');
  const next = exampleEvent(contracts, 'order.created');
  await send(topic, failing);
  await send(topic, next);
  await eventually(() => of(records, failing).some((entry) => entry.outcome === 'handled'), WAIT);

  assert.deepEqual(of(records, failing).map((entry) => [entry.topic, entry.outcome]), [
    [topic, 'retried'], [`${topic}.retry.1`, 'retried'], [`${topic}.retry.2`, 'handled'],
  ]);
  const handledNext = records.findIndex((entry) => entry.event?.id === next.id);
  const handledFailing = records.findIndex((entry) => entry.outcome === 'handled' && entry.event.id === failing.id);
  assert.ok(handledNext < handledFailing, 'the next event waited for the failing one');
  assert.ok(attempts[1].at - attempts[0].at >= 200, 'attempt 2 came before its delay');
  assert.ok(attempts[2].at - attempts[1].at >= 400, 'attempt 3 came before its delay');
  const headers = Object.fromEntries(Object.entries(attempts[2].headers).map(([name, value]) => [name, value.toString()]));
  assert.equal(headers.attempt, '3');
  assert.equal(headers['retry-group'], groupId);
  assert.equal(headers['attempt-1-reason'], 'handler failed: Error: not yet (1)');
  assert.equal(headers['attempt-2-reason'], 'handler failed: Error: not yet (2)');
  assert.deepEqual([headers['original-topic'], headers['original-partition'], headers['original-offset']], [topic, '0', '0']);
  assert.deepEqual(applied().map((row) => row.event_id).sort(), [failing.id, next.id].sort());
  await expectCommitted(groupId, topic, '2');
  await expectCommitted(groupId, `${topic}.retry.1`, '1');
  await expectCommitted(groupId, `${topic}.retry.2`, '1');
});

test('when a handler always fails, then the event is dead-lettered after the last retry with every reason', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  let attempt = 0;
  const { records, applied, groupId } = startLoop(t, topic, () => ({
    'order.confirmed': () => {
      attempt += 1;
      throw new Error(`broken ${attempt}`);
    },
  }));
  const event = exampleEvent(contracts, 'order.confirmed');
  await send(topic, event, 'order-9');
  await eventually(() => records.some((entry) => entry.outcome === 'dead-lettered'), WAIT);
  assert.deepEqual(records.map((entry) => entry.outcome), ['retried', 'retried', 'retried', 'dead-lettered']);
  assert.deepEqual(applied(), []);

  const [letter] = await deadLetters(t, topic, 1);
  assert.equal(letter.key.toString(), 'order-9');
  assert.deepEqual(JSON.parse(letter.value.toString()), event);
  assert.equal(headerText(letter, 'dlq-reason'), 'gave up after 4 attempts: handler failed: Error: broken 4');
  assert.deepEqual([1, 2, 3, 4].map((n) => headerText(letter, `attempt-${n}-reason`)), [
    'handler failed: Error: broken 1', 'handler failed: Error: broken 2',
    'handler failed: Error: broken 3', 'handler failed: Error: broken 4',
  ]);
  assert.equal(headerText(letter, 'dlq-topic'), topic);
  assert.equal(headerText(letter, 'dlq-partition'), '0');
  assert.equal(headerText(letter, 'dlq-offset'), '0');
  assert.equal(headerText(letter, 'dlq-group'), groupId);
  await expectCommitted(groupId, `${topic}.retry.3`, '1');
});

test('when an event is older than its time to live, then it is dead-lettered as expired and not handled', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, applied } = startLoop(t, topic, (record) => ({
    'order.confirmed': (event, tx) => record(event, tx),
  }));
  const minutesAgo = (minutes) => new Date(Date.now() - minutes * 60_000).toISOString();
  const stale = { ...exampleEvent(contracts, 'order.created'), time: minutesAgo(contracts.ttlOf('order.created') / 60 + 1) };
  const timeless = { ...exampleEvent(contracts, 'order.confirmed'), time: minutesAgo(60 * 24) };
  await send(topic, stale);
  await send(topic, timeless);
  await eventually(() => records.length === 2, WAIT);
  assert.deepEqual(records.map((entry) => [entry.outcome, entry.reason]), [
    ['dead-lettered', 'expired'], ['handled', undefined],
  ]);
  assert.deepEqual(applied().map((row) => row.event_id), [timeless.id]);
  const [letter] = await deadLetters(t, topic, 1);
  assert.equal(headerText(letter, 'dlq-reason'), 'expired');
  assert.equal(JSON.parse(letter.value.toString()).id, stale.id);
});

test('when a retry record belongs to another group, then it is skipped and committed past', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, applied, groupId } = startLoop(t, topic);
  const retryTopic = `${topic}.retry.1`;
  await send(retryTopic, exampleEvent(contracts, 'order.created'), 'order-1', {
    'retry-group': 'another-service', attempt: '2', 'retry-due': String(Date.now() + 3_600_000),
  });
  await eventually(() => records.length === 1, WAIT);
  assert.deepEqual([records[0].topic, records[0].outcome], [retryTopic, 'skipped']);
  assert.deepEqual(applied(), []);
  await expectCommitted(groupId, retryTopic, '1');
});

test('when a handler fails once and the event is handled meanwhile, then its retry is a duplicate', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  let calls = 0;
  const { records, applied } = startLoop(t, topic, (record) => ({
    'order.confirmed': (event, tx) => {
      calls += 1;
      if (calls === 1) throw new Error('first call fails');
      record(event, tx);
    },
  }));
  const event = exampleEvent(contracts, 'order.confirmed');
  await send(topic, event);
  await send(topic, event);
  await eventually(() => records.length === 3, WAIT);
  assert.deepEqual(records.map((entry) => [entry.topic, entry.outcome]), [
    [topic, 'retried'], [topic, 'handled'], [`${topic}.retry.1`, 'duplicate'],
  ]);
  assert.equal(applied().length, 1);
});

/** A logger that keeps its lines, to see what the loop did between two records. */
function capturingLogger() {
  const lines = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, loopLogger: createLogger({ service: 'consumer-test', level: 'debug', destination }) };
}

test('when a retry record is not due yet, then it waits on its paused partition while other records flow', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { lines, loopLogger } = capturingLogger();
  const { records, applied, groupId } = startLoop(t, topic, undefined, { retryDelays: [30], loopLogger });
  const warmUp = exampleEvent(contracts, 'order.created');
  await send(topic, warmUp);
  await eventually(() => records.length === 1, WAIT); // the loop is consuming

  const retryTopic = `${topic}.retry.1`;
  const waiting = exampleEvent(contracts, 'order.created');
  const due = Date.now() + 3000;
  await send(retryTopic, waiting, 'order-2', { 'retry-group': groupId, attempt: '2', 'retry-due': String(due) });
  const flowing = [exampleEvent(contracts, 'order.created'), exampleEvent(contracts, 'order.created')];
  for (const event of flowing) await send(topic, event);
  await eventually(() => of(records, waiting).length === 1, WAIT);

  const [handled] = of(records, waiting);
  assert.deepEqual([handled.topic, handled.outcome], [retryTopic, 'handled']);
  assert.ok(handled.at >= due, `handled ${due - handled.at} ms before it was due`);
  for (const event of flowing) {
    assert.ok(of(records, event)[0].at < due, 'a main-topic record waited for the retry');
  }
  assert.ok(lines.some((line) => line.message === 'retry not due yet, partition paused' && line.topic === retryTopic),
    'the loop never paused the retry partition');
  assert.equal(applied().length, 4);
  await expectCommitted(groupId, retryTopic, '1');
});

test('when a retry record is due far in the future, then it waits no longer than the delay of its level', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, groupId } = startLoop(t, topic, undefined, { retryDelays: [1] });
  const retryTopic = `${topic}.retry.1`;
  const event = exampleEvent(contracts, 'order.created');
  const sentAt = Date.now();
  await send(retryTopic, event, 'order-1', {
    'retry-group': groupId, attempt: '2', 'retry-due': String(sentAt + 3_600_000),
  });
  await eventually(() => records.length === 1, WAIT);
  assert.deepEqual([records[0].topic, records[0].outcome], [retryTopic, 'handled']);
  assert.ok(records[0].at >= sentAt + 1000, 'handled before the delay of its level');
});

test('when Kafka does not take the retry record, then the record is retried in place and not committed', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  let refusing = true;
  const refused = [];
  const loopProducer = {
    connect: () => producer.connect(),
    send: async (request) => {
      if (refusing) {
        refused.push(request.topic);
        throw new Error('broker unavailable');
      }
      return producer.send(request);
    },
  };
  let runs = 0;
  const { records, groupId } = startLoop(t, topic, () => ({
    'order.confirmed': () => {
      runs += 1;
      throw new Error('broken');
    },
  }), { retryDelays: [30], loopProducer });
  await send(topic, exampleEvent(contracts, 'order.confirmed'));
  await eventually(() => refused.length >= 3, WAIT);
  assert.equal(await committedOffset(groupId, topic), '-1', 'committed while the retry record was not written');
  assert.deepEqual([...new Set(refused)], [`${topic}.retry.1`]);
  assert.equal(runs, 1, 'the handler ran again for a publishing failure');
  refusing = false;
  await eventually(() => records.length === 1, WAIT);
  assert.equal(records[0].outcome, 'retried');
  await expectCommitted(groupId, topic, '1');
  const [copy] = await readTopic(kafka, t, `${topic}.retry.1`, 1);
  assert.equal(headerText(copy, 'attempt'), '2');
  const timed = await samples('messaging_process_duration_seconds', {
    messaging_destination_name: topic, messaging_consumer_group_name: groupId,
  }, '_count');
  const counts = Object.fromEntries(timed.map((value) => [value.labels.outcome, value.value]));
  assert.deepEqual(counts, { failed: refused.length, retried: 1 }, 'each attempt in place is timed as failed');
});

/** The samples of `name` (and `suffix`: '_count', ...) whose labels include `labels`. */
async function samples(name, labels, suffix = '') {
  const { values } = await metric(name).get();
  return values.filter((value) => (value.metricName ?? name) === `${name}${suffix}`
    && Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted));
}

test('when records are consumed, then each is timed by its outcome and the lag falls to 0', { timeout: 60000 }, async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-consumer-test');
  const { records, groupId } = startLoop(t, topic, () => ({
    'order.confirmed': () => {
      throw new Error('broken');
    },
  }), { retryDelays: [30] });
  const created = exampleEvent(contracts, 'order.created');
  await send(topic, '{"broken');
  await send(topic, created);
  await send(topic, created);
  await send(topic, exampleEvent(contracts, 'payment.authorized'));
  await send(topic, exampleEvent(contracts, 'order.confirmed'));
  await eventually(() => records.length === 5, WAIT);

  const reading = { messaging_destination_name: topic, messaging_consumer_group_name: groupId };
  const counts = Object.fromEntries(
    (await samples('messaging_process_duration_seconds', reading, '_count'))
      .map((value) => [value.labels.outcome, value.value]),
  );
  assert.deepEqual(counts, {
    'dead-lettered': 1, handled: 1, duplicate: 1, skipped: 1, retried: 1,
  });
  for (const outcome of Object.keys(counts)) assert.ok(metricsContract().outcomes.includes(outcome));
  const [deadLetters] = await samples('polyshop_dead_letters_total', reading);
  assert.equal(deadLetters?.value, 1);

  const lag = async (name) => (await samples('polyshop_consumer_lag_records', {
    ...reading, messaging_destination_name: name, messaging_destination_partition_id: '0',
  }))[0]?.value;
  await eventually(async () => (await lag(topic)) === 0, { ...WAIT, message: `lag 0 on ${topic}` });
  // The retry copy waits, unread, on its paused partition for 30 s.
  const retryTopic = contracts.retryTopic(topic, 1);
  await eventually(async () => (await lag(retryTopic)) === 1, { ...WAIT, message: `lag 1 on ${retryTopic}` });
});
