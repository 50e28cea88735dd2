/**
 * The consumer loop without a broker: start-up must wait, not crash.
 * (Its behaviour with a broker is in test/integration/consumer.test.js.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { createConsumerLoop } from '../../src/consumer.js';
import { openDatabase } from '../../src/db.js';
import { loadContracts } from '../../src/events.js';
import { createKafka, createProducer } from '../../src/kafka.js';
import { createLogger } from '../../src/logger.js';

const logger = createLogger({ service: 'test', level: 'silent' });

async function closedPort() {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('when Kafka is unreachable, then start() does not throw and stop() returns promptly', async () => {
  const kafka = createKafka({ brokers: [`127.0.0.1:${await closedPort()}`], clientId: 't', logger });
  const db = openDatabase(':memory:');
  const loop = createConsumerLoop({
    kafka, groupId: 'g', topics: ['orders'], handlers: {}, db,
    contracts: loadContracts(), producer: createProducer(kafka), logger,
  });
  loop.start();
  assert.equal(loop.isRunning, false);
  const started = Date.now();
  await loop.stop();
  assert.ok(Date.now() - started < 3000, `stop took ${Date.now() - started} ms`);
  assert.equal(loop.isRunning, false);
});

test('when a loop is created, then the processed_events table exists', () => {
  const kafka = createKafka({ brokers: ['127.0.0.1:9'], clientId: 't', logger });
  const db = openDatabase(':memory:');
  createConsumerLoop({
    kafka, groupId: 'g', topics: ['orders'], handlers: {}, db,
    contracts: loadContracts(), producer: createProducer(kafka), logger,
  });
  assert.ok(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'processed_events'").get());
});

test('when more retry delays are given than there are retry topics, then the loop refuses them', () => {
  const kafka = createKafka({ brokers: ['127.0.0.1:9'], clientId: 't', logger });
  const contracts = loadContracts();
  assert.throws(() => createConsumerLoop({
    kafka, groupId: 'g', topics: ['orders'], handlers: {}, db: openDatabase(':memory:'), contracts,
    producer: createProducer(kafka), retryDelays: [1, 2, 3, 4], logger,
  }), /4 retry delays, but only 3 retry topics/);
});
