/**
 * Against a real broker: the read-only views of Kafka the system view uses
 * (a group's lag, a topic's size, a tail of its records).
 *
 *   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 npm run test:integration -w libs/node
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  brokersFromEnv, consumerGroupLags, createKafka, createProducer, createTopicTail, topicSizes,
} from '../../src/kafka.js';
import { createLogger } from '../../src/logger.js';
import { eventually } from '../support/eventually.js';

const BOOTSTRAP = process.env.KAFKA_BOOTSTRAP_SERVERS;
const logger = createLogger({ service: 'kafka-views-test', level: 'warn' });
const topic = `polyshop-views-test-${randomUUID()}`;
let kafka;
let producer;

before(async () => {
  assert.ok(BOOTSTRAP, 'KAFKA_BOOTSTRAP_SERVERS is not set: this test needs a running broker');
  kafka = createKafka({ brokers: brokersFromEnv(BOOTSTRAP), clientId: 'views-test', logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  producer = createProducer(kafka);
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: ['a', 'b', 'c'].map((value) => ({
      key: value, value, headers: { 'dlq-reason': `reason ${value}` },
    })),
  });
});

after(async () => {
  await producer?.disconnect();
});

test('when a tail has read a topic, then its group has no lag and it saw every record with its headers', async () => {
  const groupId = `${topic}-tail`;
  const seen = [];
  const tail = createTopicTail({
    kafka, groupId, topics: [topic], onRecord: (record) => seen.push(record), logger,
  });
  tail.start();
  try {
    await eventually(() => seen.length === 3, { timeoutMs: 30000, message: 'three records read' });
    assert.deepEqual(seen.map((record) => record.headers['dlq-reason']).sort(),
      ['reason a', 'reason b', 'reason c']);
    assert.deepEqual((await topicSizes(kafka, [topic]))[topic], 3);
    await eventually(async () => {
      const lags = await consumerGroupLags(kafka, [topic]);
      return lags.find((entry) => entry.group === groupId)?.lag === 0;
    }, { timeoutMs: 30000, intervalMs: 500, message: 'the tail committed what it read' });
  } finally {
    await tail.stop();
  }
});

test('when a group never read a topic, then it is not listed for it', async () => {
  const lags = await consumerGroupLags(kafka, [topic]);
  assert.equal(lags.some((entry) => entry.group.startsWith('polyshop-node-test')), false);
});
