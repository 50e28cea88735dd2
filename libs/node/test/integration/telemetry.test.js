/**
 * The Kafka spans against a real broker: the outbox relay's `send`, the
 * consumer loop's `process`, and the `send` of a dead letter and of a retry
 * copy, each record carrying the context of its own `send` span. Spans are
 * kept in memory (support/spans.js). Every test has its own topic (one
 * partition, with its dead-letter and retry topics) and consumer group.
 *
 *   KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 npm run test:integration -w libs/node
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { createConsumerLoop } from '../../src/consumer.js';
import { openDatabase } from '../../src/db.js';
import { loadContracts } from '../../src/events.js';
import { createLogger } from '../../src/logger.js';
import { addToOutbox, createOutboxRelay } from '../../src/outbox.js';
import { tracer } from '../../src/telemetry.js';
import { connectBroker, exampleEvent, newTopic, readTopic } from '../support/broker.js';
import { eventually } from '../support/eventually.js';
import { collectSpans, idsOf, traceparentOf } from '../support/spans.js';

const spans = await collectSpans('kafka-spans-test');
const WAIT = { timeoutMs: 30000 };
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;
const lines = [];
const logger = createLogger({
  service: 'kafka-spans-test',
  level: 'info',
  destination: new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk));
      done();
    },
  }),
});
const quiet = logger.child({}, { level: 'fatal' });
const contracts = loadContracts();
let kafka;
let admin;
let producer;
let broker;

before(async () => {
  broker = await connectBroker('kafka-spans-test', quiet);
  ({ kafka, admin, producer } = broker);
});

after(() => broker?.close());

/** A loop of its own group on `topic`, its handlers given; stopped when the test ends. */
function startLoop(t, topic, handlers, retryDelays = []) {
  const loop = createConsumerLoop({
    kafka, groupId: `${topic}-group`, topics: [topic], db: openDatabase(':memory:'), contracts,
    producer, retryDelays, logger: quiet, handlers,
  });
  loop.start();
  t.after(() => loop.stop());
  return loop;
}

/** Writes an order.created to an outbox inside a span, as a request would; the relay publishes it. */
async function publishThroughOutbox(t, topic) {
  const db = openDatabase(':memory:');
  const relay = createOutboxRelay({ db, producer, logger: quiet });
  t.after(() => db.close());
  const event = exampleEvent(contracts, 'order.created');
  const request = tracer().startActiveSpan('a request', (span) => {
    addToOutbox(db, { topic, key: event.subject, event });
    span.end();
    return span;
  });
  assert.equal(await relay.publishPending(), 1);
  return { event, request };
}

async function spanNamed(name) {
  return eventually(async () => (await spans.finished()).find((span) => span.name === name), {
    ...WAIT, message: `a span named ${name}`,
  });
}

function headerText(message, name) {
  return message.headers?.[name]?.toString();
}

test('when an event is written to the outbox inside a span, then the relay sends it as a child of that span', async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-spans-test');
  const { event, request } = await publishThroughOutbox(t, topic);

  const sendSpan = await spanNamed(`send ${topic}`);
  assert.equal(sendSpan.kind, SpanKind.PRODUCER);
  assert.equal(idsOf(sendSpan).traceId, idsOf(request).traceId);
  assert.equal(idsOf(sendSpan).parentSpanId, idsOf(request).spanId);
  assert.deepEqual(sendSpan.attributes, {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
    'messaging.destination.name': topic,
    'messaging.kafka.message.key': event.subject,
    'messaging.destination.partition.id': '0',
    'messaging.kafka.offset': 0,
  });
  const [record] = await readTopic(kafka, t, topic);
  assert.equal(headerText(record, 'traceparent'), traceparentOf(sendSpan));
});

test('when a record is consumed, then its process span is the child of its send span, active in the handler', async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-spans-test');
  const { event } = await publishThroughOutbox(t, topic);
  const sendSpan = await spanNamed(`send ${topic}`);
  const seen = [];
  startLoop(t, topic, {
    'order.created': () => {
      seen.push(trace.getActiveSpan().spanContext());
      logger.info('handling it');
    },
  });

  const processSpan = await spanNamed(`process ${topic}`);
  assert.equal(processSpan.kind, SpanKind.CONSUMER);
  assert.equal(idsOf(processSpan).traceId, idsOf(sendSpan).traceId);
  assert.equal(idsOf(processSpan).parentSpanId, idsOf(sendSpan).spanId);
  assert.deepEqual(processSpan.attributes, {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': topic,
    'messaging.kafka.message.key': event.subject,
    'messaging.destination.partition.id': '0',
    'messaging.kafka.offset': 0,
    'messaging.consumer.group.name': `${topic}-group`,
  });
  assert.equal(processSpan.status.code, SpanStatusCode.UNSET);
  assert.equal(seen[0].spanId, idsOf(processSpan).spanId);
  const line = lines.find((one) => one.message === 'handling it');
  assert.deepEqual([line.trace_id, line.span_id], [idsOf(processSpan).traceId, idsOf(processSpan).spanId]);
});

test('when a record cannot be read, then its dead letter carries its send span, a child of the failed process span', async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-spans-test');
  await producer.send({
    topic, acks: -1, messages: [{ key: 'order-1', value: 'not json', headers: { traceparent: TRACEPARENT } }],
  });
  startLoop(t, topic, {});

  const [letter] = await readTopic(kafka, t, `${topic}.dlq`);
  const sendSpan = await spanNamed(`send ${topic}.dlq`);
  const processSpan = await spanNamed(`process ${topic}`);
  assert.equal(headerText(letter, 'traceparent'), traceparentOf(sendSpan));
  assert.equal(sendSpan.kind, SpanKind.PRODUCER);
  assert.equal(idsOf(sendSpan).traceId, TRACE_ID);
  assert.equal(idsOf(sendSpan).parentSpanId, idsOf(processSpan).spanId);
  assert.equal(idsOf(processSpan).parentSpanId, PARENT_ID);
  assert.equal(processSpan.status.code, SpanStatusCode.ERROR);
  assert.equal(processSpan.status.message, headerText(letter, 'dlq-reason'));
});

test('when a handler fails, then its process span is an error with the exception, and the retry copy goes on from it', async (t) => {
  const topic = await newTopic(admin, contracts, 'polyshop-spans-test');
  const event = exampleEvent(contracts, 'order.created');
  await producer.send({
    topic, acks: -1,
    messages: [{ key: event.subject, value: JSON.stringify(event), headers: { traceparent: TRACEPARENT } }],
  });
  startLoop(t, topic, {
    'order.created': () => {
      throw new Error('no stock today');
    },
  }, [60]);

  const retryTopic = contracts.retryTopic(topic, 1);
  const [copy] = await readTopic(kafka, t, retryTopic);
  const sendSpan = await spanNamed(`send ${retryTopic}`);
  const processSpan = await spanNamed(`process ${topic}`);
  assert.equal(headerText(copy, 'traceparent'), traceparentOf(sendSpan));
  assert.equal(idsOf(sendSpan).parentSpanId, idsOf(processSpan).spanId);
  assert.equal(idsOf(processSpan).traceId, TRACE_ID);
  assert.equal(processSpan.status.code, SpanStatusCode.ERROR);
  // Worded as the retry copy's reason header words it, in both libraries.
  assert.equal(processSpan.status.message, headerText(copy, 'attempt-1-reason'));
  const [exception] = processSpan.events.filter((one) => one.name === 'exception');
  assert.equal(exception.attributes['exception.message'], 'no stock today');
});
