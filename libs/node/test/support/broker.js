/**
 * What the integration tests against a real broker share: a connected admin
 * and producer, valid example events, and fresh topics as the contract has
 * them (each with its dead-letter and retry topics).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokersFromEnv, createKafka, createProducer } from '../../src/kafka.js';
import { eventually } from './eventually.js';

/**
 * A client of the broker KAFKA_BOOTSTRAP_SERVERS names, with an admin and a
 * producer connected; `close()` disconnects them.
 * @param {string} clientId
 * @param {import('pino').Logger} logger
 */
export async function connectBroker(clientId, logger) {
  const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS;
  assert.ok(bootstrap, 'KAFKA_BOOTSTRAP_SERVERS is not set: this test needs a running broker');
  const kafka = createKafka({ brokers: brokersFromEnv(bootstrap), clientId, logger });
  const admin = kafka.admin();
  await admin.connect();
  const producer = createProducer(kafka);
  await producer.connect();
  const close = async () => {
    await producer.disconnect();
    await admin.disconnect();
  };
  return { kafka, admin, producer, close };
}

/** A valid event of `type`, new (its own id) and just made, so it has not expired. */
export function exampleEvent(contracts, type) {
  const file = join(contracts.dir, 'events', 'examples', `${type}.valid.json`);
  const event = JSON.parse(readFileSync(file, 'utf8'));
  return { ...event, id: randomUUID(), time: new Date().toISOString() };
}

/**
 * A topic of one partition named `prefix-<uuid>`, with its dead-letter and
 * retry topics, each with a leader.
 * @returns {Promise<string>} its name
 */
export async function newTopic(admin, contracts, prefix) {
  const topic = `${prefix}-${randomUUID()}`;
  const names = [topic, `${topic}.dlq`, ...contracts.retryTopics([topic])];
  const topics = names.map((name) => ({ topic: name, numPartitions: 1 }));
  await admin.createTopics({ topics, waitForLeaders: true });
  return topic;
}

/** Reads the first `count` records of a topic with a throwaway group, stopped when the test ends. */
export async function readTopic(kafka, t, topic, count = 1) {
  const consumer = kafka.consumer({
    groupId: `reader-${randomUUID()}`, sessionTimeout: 6000, heartbeatInterval: 2000, maxWaitTimeInMs: 500,
  });
  t.after(() => consumer.disconnect());
  const messages = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => messages.push(message) });
  const wait = { timeoutMs: 30000, message: `${count} record(s) on ${topic}` };
  await eventually(() => messages.length >= count, wait);
  return messages;
}
