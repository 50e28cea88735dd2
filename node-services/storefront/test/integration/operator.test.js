/**
 * The operator API and the system view's redrive against a real broker:
 * list, read and redrive a dead letter over HTTP, once, then again.
 *
 *   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 npm run test:integration -w node-services/storefront
 *
 * The broker must have the contract's redrive topic (`python -m
 * polyshop_dev.kafka run` creates it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { brokersFromEnv, createKafka, createProducer } from '@polyshop/common';
import {
  logger, OPERATOR_TOKEN, openSystemView, postForm, startStorefront,
} from '../support/storefront.js';

const DOCS = new URL('../../../../docs/storefront.md', import.meta.url);

const BOOTSTRAP = process.env.KAFKA_BOOTSTRAP_SERVERS;
const VALUE = '{"id": "e-1", "type": "order.created"}';
const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };
const topic = `test-${randomUUID().slice(0, 8)}`;
let storefront;
let kafka;
let producer;

before(async () => {
  assert.ok(BOOTSTRAP, 'KAFKA_BOOTSTRAP_SERVERS is not set: this test needs a running broker');
  const brokers = brokersFromEnv(BOOTSTRAP);
  kafka = createKafka({ brokers, clientId: 'storefront-operator-test', logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [topic, `${topic}.dlq`].map((name) => ({ topic: name, numPartitions: 2 }));
    await admin.createTopics({ topics, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  producer = createProducer(kafka);
  await producer.connect();
  storefront = await startStorefront({ brokers });
});

after(async () => {
  await storefront?.stop();
  await producer?.disconnect();
});

/** Publishes a dead letter of `topic` as a consumer gives up on one; its id. */
async function deadLetter() {
  const headers = {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'dlq-reason': 'gave up after 2 attempts: handler failed: TimeoutError()',
    'dlq-topic': topic,
    'dlq-group': 'inventory',
  };
  const [sent] = await producer.send({
    topic: `${topic}.dlq`, acks: -1, messages: [{ key: 'order-1', value: VALUE, headers, partition: 1 }],
  });
  return `${sent.topicName}/${sent.partition}/${sent.baseOffset}`;
}

const call = (path, { method = 'GET', body } = {}) => fetch(`${storefront.base}${path}`, {
  method,
  headers: { ...operator, ...(body ? { 'content-type': 'application/json' } : {}) },
  body: body && JSON.stringify(body),
});
const redrive = (id, body) => call(`/operator/dead-letters/${id}/redrive`, { method: 'POST', body });

describe('the operator API on a broker', { timeout: 60000 }, () => {
  test('when dead letters are listed, then each says where it lies, why, and whether it was redriven', async () => {
    const id = await deadLetter();

    const answer = await call(`/operator/dead-letters?topic=${topic}&limit=1`);

    assert.equal(answer.status, 200);
    const { dead_letters: found } = await answer.json();
    assert.deepEqual(found.map(({ time, ...rest }) => rest), [{
      id, topic, group: 'inventory', reason: 'gave up after 2 attempts: handler failed: TimeoutError()', redrive: null,
    }]);
    assert.ok(!Number.isNaN(Date.parse(found[0].time)));
  });

  test('when one dead letter is read, then its key, headers and value come with it', async () => {
    const id = await deadLetter();

    const answer = await call(`/operator/dead-letters/${id}`);

    assert.equal(answer.status, 200);
    const letter = await answer.json();
    assert.equal(letter.id, id);
    assert.equal(letter.key, 'order-1');
    assert.deepEqual(letter.value_json, JSON.parse(VALUE));
    assert.equal(Buffer.from(letter.value_base64, 'base64').toString(), VALUE);
    assert.deepEqual(letter.headers.find(({ name }) => name === 'dlq-topic'), { name: 'dlq-topic', value: topic });
  });

  test('when a dead letter is redriven, then it says where it went, refuses a second time, and goes again when asked', async () => {
    const id = await deadLetter();

    const first = await redrive(id);
    assert.equal(first.status, 200);
    const done = await first.json();
    assert.deepEqual([done.letter, done.topic], [id, topic]);

    const refused = await redrive(id, {});
    assert.equal(refused.status, 409);
    assert.deepEqual((await refused.json()).redrive, done);

    const again = await redrive(id, { again: true });
    assert.equal(again.status, 200);
    assert.notDeepEqual(await again.json(), done);
    const listed = await (await call(`/operator/dead-letters/${id}`)).json();
    assert.notEqual(listed.redrive, null);
  });

  test('when no dead letter lies at the id, then it is 404', async () => {
    const answer = await call(`/operator/dead-letters/${topic}.dlq/0/999`);
    assert.equal(answer.status, 404);
    assert.match((await answer.json()).detail, /no dead letter at/);
  });

  test('when the topic named is not on the broker, then it is 422 and nothing is sent', async () => {
    const id = await deadLetter();

    assert.equal((await redrive(id, { to: 'no-such-topic' })).status, 422);
    assert.equal((await call('/operator/dead-letters?topic=no-such-topic')).status, 422);
    assert.equal((await (await call(`/operator/dead-letters/${id}`)).json()).redrive, null);
  });

  test('when an operator redrives from the system view, then the page says where it went', async () => {
    const id = await deadLetter();
    const visitor = await openSystemView(storefront.base);
    const signedIn = await postForm(storefront.base, '/system/operator', visitor.cookie, {
      _csrf: visitor.csrf, token: OPERATOR_TOKEN,
    });
    const { cookie, csrf } = await openSystemView(storefront.base, signedIn.headers.get('set-cookie').split(';')[0]);

    const answer = await postForm(storefront.base, '/system/dead-letters/redrive', cookie, { _csrf: csrf, letter: id });

    assert.equal(answer.status, 303);
    const { html } = await openSystemView(storefront.base, cookie);
    assert.match(html, new RegExp(`<p>Redriven ${id} to ${topic}/\\d+/\\d+ at `));
    await postForm(storefront.base, '/system/dead-letters/redrive', cookie, { _csrf: csrf, letter: id });
    assert.match((await openSystemView(storefront.base, cookie)).html, new RegExp(`Redrive ${id} again</button>`));
  });
});

test('when the curl commands of docs/storefront.md are run, then each answers as documented', async () => {
  const section = readFileSync(DOCS, 'utf8').split('\n## Operator API\n')[1].split('\n## ')[0];
  const lines = section.split('\n');
  assert.ok(lines.some((line) => line.startsWith('TOKEN=')), 'the section says where TOKEN comes from');
  const commands = lines.filter((line) => line.startsWith('curl '));
  assert.ok(commands.length >= 4);
  const id = await deadLetter();
  for (const command of commands) {
    assert.doesNotMatch(command, /%2F|%5C/i, 'the gateway refuses an encoded slash in a path');
    // The docs' broker address, topic and dead letter stand for this test's.
    const here = command.replaceAll('http://127.0.0.1:8080', storefront.base)
      .replaceAll('inventory.dlq/1/0', id).replaceAll('inventory', topic);
    const { stdout } = await promisify(execFile)('sh', ['-c', here], { env: { ...process.env, TOKEN: OPERATOR_TOKEN } });
    const answer = JSON.parse(stdout);
    assert.equal(answer.status, undefined, `${command}: ${stdout}`);
  }
});
