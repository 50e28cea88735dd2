/**
 * Against a real broker: produce with acks=all, consume in a group, commit,
 * and a new consumer of the same group resumes after the committed offset.
 *
 *   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 npm run test:integration -w libs/node
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { brokersFromEnv, createKafka, createProducer } from '../../src/kafka.js';
import { createLogger } from '../../src/logger.js';
import { eventually } from '../support/eventually.js';

const BOOTSTRAP = process.env.KAFKA_BOOTSTRAP_SERVERS;
const logger = createLogger({ service: 'kafka-integration-test', level: 'warn' });
const topic = `polyshop-node-test-${randomUUID()}`;
const groupId = `${topic}-group`;
let kafka;
let producer;

before(async () => {
  assert.ok(
    BOOTSTRAP,
    'KAFKA_BOOTSTRAP_SERVERS is not set: this test needs a running broker, for example '
      + '`.venv/bin/python -m polyshop_dev.kafka run` and KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092',
  );
  const brokers = brokersFromEnv(BOOTSTRAP);
  kafka = createKafka({ brokers, clientId: 'node-integration-test', logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  producer = createProducer(kafka);
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
});

function produce(value) {
  return producer.send({ topic, acks: -1, messages: [{ key: 'order-1', value }] });
}

// Consumes with manual commits: an offset is committed only after the message
// was handled (here: recorded), as the services do.
async function consumeUntil(count) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 2000 });
  const received = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        received.push(message.value.toString());
        const next = (BigInt(message.offset) + 1n).toString();
        await consumer.commitOffsets([{ topic, partition, offset: next }]);
      },
    });
    const waitingFor = `${count} message(s) to arrive`;
    await eventually(() => received.length >= count, { timeoutMs: 30000, message: waitingFor });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

test(
  'when a group committed an offset, then a new consumer of the group resumes after it',
  { timeout: 90000 },
  async () => {
    await produce('first');
    assert.deepEqual(await consumeUntil(1), ['first']);

    await produce('second');
    assert.deepEqual(await consumeUntil(1), ['second']);
  },
);
