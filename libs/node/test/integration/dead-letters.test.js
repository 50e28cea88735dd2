/**
 * Dead letters against a real broker: list, get, redrive once, redrive
 * again (the cases of the Python twin's tests/test_dead_letters.py).
 *
 *   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 npm run test:integration -w libs/node
 *
 * The broker must have the contract's redrive topic (`python -m
 * polyshop_dev.kafka run` creates it).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import {
  AlreadyRedriven, DeadLetterError, DeadLetters, KafkaUnavailable, LetterId, UnknownDeadLetter,
} from '../../src/dead-letters.js';
import { loadContracts } from '../../src/events.js';
import { brokersFromEnv, createKafka, createProducer } from '../../src/kafka.js';
import { createLogger } from '../../src/logger.js';
import { startTelemetry } from '../../src/telemetry.js';
import { eventually } from '../support/eventually.js';

const BOOTSTRAP = process.env.KAFKA_BOOTSTRAP_SERVERS;
const VALUE = Buffer.from('{"id": "e-1", "type": "order.created"}');
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const logger = createLogger({ service: 'dead-letters-test', level: 'warn' });
const contracts = loadContracts();
let brokers;
let kafka;
let producer;
let letters;
let topic;

// As in a service: a redrive is published under a `send` span of its own.
await startTelemetry({ service: 'dead-letters-test' });

before(async () => {
  assert.ok(BOOTSTRAP, 'KAFKA_BOOTSTRAP_SERVERS is not set: this test needs a running broker');
  brokers = brokersFromEnv(BOOTSTRAP);
  kafka = createKafka({ brokers, clientId: 'dead-letters-test', logger });
  producer = createProducer(kafka);
  await producer.connect();
  letters = DeadLetters.fromContracts({ brokers, logger, contracts });
});

after(async () => {
  await letters?.close();
  await producer?.disconnect();
});

// A fresh topic for each test, with its dead-letter twin and a second topic to redrive to.
beforeEach(async () => {
  topic = `test-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [topic, `${topic}.dlq`, `${topic}.other`].map((name) => ({ topic: name, numPartitions: 2 }));
    await admin.createTopics({ topics, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
});

/** Publishes a dead letter of `topic` as a consumer gives up on one; its id. */
async function deadLetter({
  value = VALUE, key = 'order-1', partition = 1, extra = {}, at,
} = {}) {
  const headers = {
    traceparent: TRACEPARENT,
    'attempt-1-reason': 'handler failed: TimeoutError()',
    'dlq-reason': 'gave up after 2 attempts: handler failed: TimeoutError()',
    'dlq-topic': topic,
    'dlq-partition': '0',
    'dlq-offset': '7',
    'dlq-group': 'inventory',
    ...extra,
  };
  const message = { key, value, headers, partition, ...(at ? { timestamp: String(at) } : {}) };
  const [sent] = await producer.send({ topic: `${topic}.dlq`, acks: -1, messages: [message] });
  return new LetterId(sent.topicName, sent.partition, Number(sent.baseOffset));
}

/** The records of `readTopic` a consumer of its own reads, until `found` picks one. */
async function readUntil(readTopic, found) {
  const consumer = kafka.consumer({ groupId: `dead-letters-test-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const seen = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [readTopic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => { seen.push({ partition, ...message }); } });
    return await eventually(() => found(seen), { timeoutMs: 20000, message: `a record of ${readTopic}` });
  } finally {
    await consumer.disconnect();
  }
}

const readAt = (readTopic, partition, offset) => readUntil(readTopic, (seen) => seen.find(
  (record) => record.partition === partition && Number(record.offset) === offset,
));

const text = (headers) => Object.fromEntries(
  Object.entries(headers).map(([name, value]) => [name, value.toString()]),
);

describe('dead letters', { timeout: 60000 }, () => {
  test('when a topic has dead letters, then they are listed oldest first with why and where from', async () => {
    const now = Date.now();
    const first = await deadLetter({ partition: 1, at: now - 1 });
    const second = await deadLetter({ partition: 0, at: now });

    const found = await letters.letters({ topic });

    assert.deepEqual(found.map((letter) => String(letter.id)), [String(first), String(second)]);
    assert.equal(found[0].reason, 'gave up after 2 attempts: handler failed: TimeoutError()');
    assert.equal(found[0].group, 'inventory');
    assert.equal(found[0].origin, topic);
    assert.equal(found[0].redrive, null);
    assert.deepEqual(await letters.letters({ topic: `${topic}.dlq` }), found);
    assert.ok((await letters.topics()).includes(`${topic}.dlq`));
  });

  test('when a limit is given, then only the newest dead letters are listed', async () => {
    const now = Date.now();
    const ids = [];
    for (let n = 0; n < 5; n += 1) ids.push(String(await deadLetter({ partition: n % 2, at: now + n })));

    const found = await letters.letters({ topic, limit: 2 });

    assert.deepEqual(found.map((letter) => String(letter.id)), ids.slice(-2));
  });

  test('when one dead letter is asked for, then it comes with its key, value and headers', async () => {
    const letter = await deadLetter({ value: Buffer.from('\x00not json'), key: null });

    const found = await letters.get(letter);

    assert.equal(String(found.id), String(letter));
    assert.equal(found.key, null);
    assert.deepEqual(found.value, Buffer.from('\x00not json'));
    assert.equal(found.header('dlq-offset'), '7');
    assert.equal(await letters.redriven(letter), null);
  });

  test('when a dead letter is redriven, then its original goes back without the dlq headers', async () => {
    const letter = await deadLetter();
    const original = await letters.get(letter);

    const done = await letters.redrive(letter);

    assert.deepEqual([done.letter, done.topic], [String(letter), topic]);
    const record = await readAt(topic, done.partition, done.offset);
    assert.deepEqual([record.key.toString(), record.value], ['order-1', VALUE]);
    const kept = original.headers.filter(([name]) => !name.startsWith('dlq-') && name !== 'traceparent');
    const { traceparent, ...others } = text(record.headers);
    assert.deepEqual(Object.entries(others),
      [...kept.map(([name, value]) => [name, value.toString()]), ['redriven-from', String(letter)]]);
    // The context of the redrive's own `send` span, not the dead letter's.
    assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    assert.notEqual(traceparent, TRACEPARENT);
    assert.deepEqual(await letters.redriven(letter), done);
    assert.deepEqual((await letters.get(letter)).redrive, done);
  });

  test('when a dead letter is redriven, then the redrive topic records it under its id as Python does', async () => {
    const letter = await deadLetter();

    const done = await letters.redrive(letter);

    const record = await readUntil(letters.redriveTopic, (seen) => seen.find(
      (one) => one.key?.toString() === String(letter),
    ));
    const { topic: to, partition, offset, time } = done;
    assert.equal(record.value.toString(),
      `{"topic": "${to}", "partition": ${partition}, "offset": ${offset}, "time": "${time}"}`);
    assert.deepEqual(JSON.parse(record.value), { topic: to, partition, offset, time });
  });

  test('when a dead letter was redriven, then a second redrive is refused unless asked again', async () => {
    const letter = await deadLetter();
    const first = await letters.redrive(letter);

    const refused = await letters.redrive(letter).catch((error) => error);
    const again = await letters.redrive(letter, { again: true });

    assert.ok(refused instanceof AlreadyRedriven);
    assert.deepEqual(refused.redrive, first);
    assert.match(refused.message, new RegExp(String(letter)));
    assert.notEqual(again.target, first.target);
    assert.deepEqual(await letters.redriven(letter), again);
  });

  test('when a topic is chosen, then the redrive goes there', async () => {
    const letter = await deadLetter();

    const done = await letters.redrive(letter, { to: `${topic}.other` });

    assert.equal(done.topic, `${topic}.other`);
    assert.deepEqual((await readAt(done.topic, done.partition, done.offset)).value, VALUE);
  });

  test('when a dead letter was redriven from elsewhere, then its redriven-from is replaced', async () => {
    const letter = await deadLetter({ extra: { 'redriven-from': 'elsewhere.dlq/0/1' } });

    const done = await letters.redrive(letter);

    const record = await readAt(done.topic, done.partition, done.offset);
    assert.equal(record.headers['redriven-from'].toString(), String(letter));
  });

  test('when the chosen topic is missing, then nothing is sent or recorded', async () => {
    const letter = await deadLetter();

    await assert.rejects(letters.redrive(letter, { to: 'no-such-topic' }), (error) => (
      error instanceof DeadLetterError && /there is no topic no-such-topic/.test(error.message)));

    assert.equal(await letters.redriven(letter), null);
  });

  const nowhere = {
    'offset past the end': (name) => `${name}.dlq/0/999`,
    'no such partition': (name) => `${name}.dlq/9/0`,
    'not a dead-letter topic': (name) => `${name}/0/0`,
    'no such topic': () => 'test-missing.dlq/0/0',
  };
  for (const [where, id] of Object.entries(nowhere)) {
    test(`when an id names ${where}, then no dead letter is found there`, async () => {
      await deadLetter({ partition: 0 });

      await assert.rejects(letters.get(LetterId.parse(id(topic))), UnknownDeadLetter);
    });
  }
});

test('when no broker answers, then it says so', async () => {
  const port = await new Promise((resolve) => {
    const spare = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = spare.address();
      spare.close(() => resolve(free)); // closed again: nothing listens there
    });
  });
  const absent = DeadLetters.fromContracts({ brokers: [`127.0.0.1:${port}`], logger, contracts });
  try {
    await assert.rejects(absent.letters(), (error) => (
      error instanceof KafkaUnavailable && /no Kafka broker answers/.test(error.message)));
  } finally {
    await absent.close();
  }
});
