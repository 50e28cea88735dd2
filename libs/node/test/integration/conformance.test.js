/**
 * The consuming cases of contracts/conformance/ (dedupe, commit after the
 * work, poison, retry routing, expiry), run against this library's consumer
 * loop and a real broker; the Python library runs the same file
 * (libs/python/tests/test_conformance_consuming.py).
 *
 *   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 npm run test:integration -w libs/node
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import util from 'node:util';
import { createConsumerLoop } from '../../src/consumer.js';
import { openDatabase } from '../../src/db.js';
import { loadContracts } from '../../src/events.js';
import { brokersFromEnv, createKafka, createProducer } from '../../src/kafka.js';
import { createLogger } from '../../src/logger.js';
import { startTelemetry } from '../../src/telemetry.js';
import { buildEvent, buildValue, conformanceCases } from '../support/conformance.js';
import { eventually } from '../support/eventually.js';

const BOOTSTRAP = process.env.KAFKA_BOOTSTRAP_SERVERS;
const DEADLINE_MS = 40000;
const logger = createLogger({ service: 'conformance-test', level: process.env.LOG_LEVEL ?? 'fatal' });
const contracts = loadContracts();
let kafka;
let admin;
let producer;

// As a service does: a retry copy or a dead letter carries its own `send` span's context.
await startTelemetry({ service: 'conformance-test' });

before(async () => {
  assert.ok(BOOTSTRAP, 'KAFKA_BOOTSTRAP_SERVERS is not set: this test needs a running broker');
  kafka = createKafka({ brokers: brokersFromEnv(BOOTSTRAP), clientId: 'conformance-test', logger });
  admin = kafka.admin();
  await admin.connect();
  producer = createProducer(kafka);
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
});

/** What the scripted handler throws: named alike in both languages. */
class ScriptedFailure extends Error {
  constructor(message) {
    super(message);
    this.name = 'ScriptedFailure';
  }
}

/** Records the event's id in the handler's transaction, then fails as the case says. */
function scriptedHandler(fails) {
  const calls = new Map();
  const handler = (event, tx) => {
    const count = (calls.get(event.id) ?? 0) + 1;
    calls.set(event.id, count);
    tx.prepare('INSERT INTO handled VALUES (?)').run(event.id);
    const failing = fails.get(event.id) ?? 0;
    if (failing === 'always' || count <= failing) throw new ScriptedFailure(`failure ${count}`);
  };
  return { handler, calls };
}

/** The case's topic, T, with T.dlq and T.retry.1..3, each of one partition with a leader. */
async function newTopics() {
  const topic = `conformance-${randomUUID().slice(0, 8)}`;
  const names = { dlq: `${topic}${contracts.deadLetterSuffix}` };
  for (const level of [1, 2, 3]) names[`retry.${level}`] = contracts.retryTopic(topic, level);
  const topics = [topic, ...Object.values(names)].map((name) => ({ topic: name, numPartitions: 1 }));
  await admin.createTopics({ topics, waitForLeaders: true });
  return { topic, name: (relative) => (relative ? names[relative] : topic) };
}

const fill = (text, topic, group) => text.replaceAll('{topic}', topic).replaceAll('{group}', group);

/** Sends the case's records; returns each as sent (key, value, headers, its event's id, label). */
async function sendRecords({ records }, topics, group) {
  const sent = [];
  for (const record of records) {
    const headers = Object.fromEntries(Object.entries(record.headers ?? {})
      .map(([name, value]) => [name, fill(value, topics.topic, group)]));
    sent.push({ ...('same_as' in record ? sent[record.same_as] : asSent(record)), headers });
    const { key, value } = sent.at(-1);
    await producer.send({
      topic: topics.name(record.topic), acks: -1, messages: [{ key, value, headers }],
    });
  }
  return sent;
}

function asSent({ value: spec, key, as: label }) {
  const event = spec && 'event' in spec ? buildEvent(spec) : null;
  const value = event ? Buffer.from(JSON.stringify(event)) : buildValue(spec);
  const keyText = key ?? event?.subject ?? null;
  return { key: keyText === null ? null : Buffer.from(keyText), value, id: event?.id ?? null, label };
}

async function endOffset(topic) {
  const [partition] = await admin.fetchTopicOffsets(topic);
  return Number(partition.high);
}

async function committedOffset(groupId, topic) {
  const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return Math.max(Number(partitions[0].offset), 0);
}

/** Every record of the topics, up to their ends now, by topic. */
async function readAll(t, topics) {
  const ends = Object.fromEntries(await Promise.all(topics.map(async (topic) => [topic, await endOffset(topic)])));
  const read = Object.fromEntries(topics.map((topic) => [topic, []]));
  if (Object.values(ends).every((end) => end === 0)) return read;
  const consumer = kafka.consumer({
    groupId: `reader-${randomUUID()}`, sessionTimeout: 6000, heartbeatInterval: 2000, maxWaitTimeInMs: 500,
  });
  t.after(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ topic, message }) => read[topic].push(message) });
  await eventually(() => topics.every((topic) => read[topic].length >= ends[topic]), {
    timeoutMs: 20000, message: `reading ${topics.join(', ')} to their ends`,
  });
  await consumer.stop();
  return read;
}

function assertRecords(records, expected, { sent, topic, group, delays, where }) {
  assert.equal(records.length, expected.length, `${where}: ${records.length} records, not ${expected.length}`);
  expected.forEach((want, index) => {
    const record = records[index];
    const original = sent[want.of];
    assert.deepEqual([record.key, record.value], [original.key, original.value], where);
    const headers = Object.fromEntries(Object.entries(record.headers ?? {})
      .map(([name, value]) => [name, value.toString()]));
    if (want.reason) assert.ok(headers['dlq-reason'].startsWith(want.reason), headers['dlq-reason']);
    for (const [name, value] of Object.entries(want.headers ?? {})) {
      if (value === '{due}') assertDue(record, headers, delays, where);
      else if (value.startsWith('{trace ')) assertOwnSpanOf(value.slice('{trace '.length, -1), headers[name], original, where);
      else assert.equal(headers[name], fill(value, topic, group), `${where}: ${name}`);
    }
    for (const name of want.absent ?? []) assert.ok(!(name in headers), `${where}: ${name} is there`);
  });
}

/** A context in the record's trace, but not the record's own span. */
function assertOwnSpanOf(traceId, traceparent, original, where) {
  assert.ok(traceparent, `${where}: no traceparent`);
  assert.equal(traceparent.split('-')[1], traceId, `${where}: ${traceparent}`);
  assert.notEqual(traceparent, original.headers.traceparent, `${where}: the record's own traceparent`);
}

/** A copy to retry level N is due the delay of level N after it was made. */
function assertDue(record, headers, delays, where) {
  const delayMs = Math.round(delays[Number(where.split('.').at(-1)) - 1] * 1000);
  const due = Number(headers['retry-due']);
  const timestamp = Number(record.timestamp);
  assert.ok(timestamp + delayMs - 1000 < due && due <= timestamp + delayMs, `${where}: due ${due}, written ${timestamp}`);
}

for (const testCase of conformanceCases('consuming')) {
  test(`when the consumer loop reads a case where ${testCase.name}, then it does what the case expects`, { timeout: 90000 }, async (t) => {
    const topics = await newTopics();
    const group = `conformance-${randomUUID().slice(0, 8)}`;
    const sent = await sendRecords(testCase, topics, group);
    const labels = new Map(sent.filter((r) => r.id).map((r) => [r.id, r.label]));
    const ids = new Map([...labels].map(([id, label]) => [label, id]));
    const fails = new Map(Object.entries(testCase.fails ?? {}).map(([label, n]) => [ids.get(label), n]));
    const { handler, calls } = scriptedHandler(fails);

    const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
    const db = openDatabase(join(dir, 'consumer.db'));
    db.exec('CREATE TABLE handled (event_id TEXT)');
    t.after(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const { retry_delays: delays, handles, expect } = testCase;
    const loop = createConsumerLoop({
      kafka, groupId: group, topics: [topics.topic], db, contracts, producer, retryDelays: delays, logger,
      handlers: Object.fromEntries(handles.map((type) => [type, handler])),
    });
    const readTopics = [topics.topic, ...delays.map((_, index) => topics.name(`retry.${index + 1}`))];
    const handled = () => db.prepare('SELECT event_id FROM handled').all()
      .map((row) => labels.get(row.event_id)).sort();
    const counts = { dlq: expect.dead_letters.length, ...Object.fromEntries(
      Object.entries(expect.retries).map(([level, records]) => [level, records.length]),
    ) };
    const finished = async () => {
      if (!util.isDeepStrictEqual(handled(), [...expect.handled].sort())) return false;
      for (const [level, count] of Object.entries(counts)) {
        if (await endOffset(topics.name(level)) < count) return false;
      }
      for (const topic of readTopics) {
        if (await committedOffset(group, topic) !== await endOffset(topic)) return false;
      }
      return true;
    };

    loop.start();
    try {
      await eventually(finished, { timeoutMs: DEADLINE_MS, intervalMs: 100 }).catch(() => undefined);
    } finally {
      await loop.stop();
    }

    const byLabel = Object.fromEntries([...calls].map(([id, count]) => [labels.get(id), count]));
    assert.deepEqual(byLabel, expect.calls);
    assert.deepEqual(handled(), [...expect.handled].sort());
    const levels = ['retry.1', 'retry.2', 'retry.3'];
    const read = await readAll(t, ['dlq', ...levels].map((level) => topics.name(level)));
    const context = { sent, topic: topics.topic, group, delays };
    assertRecords(read[topics.name('dlq')], expect.dead_letters, { ...context, where: 'dlq' });
    for (const level of levels) {
      assertRecords(read[topics.name(level)], expect.retries[level] ?? [], { ...context, where: level });
    }
    for (const topic of readTopics) {
      assert.equal(await committedOffset(group, topic), await endOffset(topic), `${topic} not committed`);
    }
  });
}
