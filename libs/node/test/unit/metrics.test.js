/**
 * The shared series of contracts/metrics.json as the Node.js library makes
 * and fills them: request timing, GET /metrics, the outbox gauges and the
 * consumer's clock and lag. Each test reads only series of its own (labels
 * no other test uses) or the change it made, so they run in any order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import {
  Counter, Gauge, Histogram, register,
} from 'prom-client';
import { ConsumerMetrics, FAILED } from '../../src/consumer-metrics.js';
import { openDatabase } from '../../src/db.js';
import { findContractsDir } from '../../src/events.js';
import { startWebServer, stopWebServer } from '../../src/http.js';
import { createLogger } from '../../src/logger.js';
import { metric, requestMetrics, watchOutbox } from '../../src/metrics.js';
import { OUTBOX_TABLE } from '../../src/outbox.js';
import { createServiceApp } from '../../src/service.js';
import { eventually } from '../support/eventually.js';

const logger = createLogger({ service: 'metrics-test', level: 'silent' });
const contract = JSON.parse(readFileSync(join(findContractsDir(), 'metrics.json'), 'utf8'));
const KINDS = { counter: Counter, gauge: Gauge, histogram: Histogram };
const REQUESTS = 'http_server_request_duration_seconds';

/** The value of `name`'s sample whose labels include `labels` (`suffix`: '_count', '_sum', ...). */
async function sample(name, labels, suffix = '') {
  const { values } = await metric(name).get();
  const found = values.find((value) => (value.metricName ?? name) === `${name}${suffix}`
    && Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted));
  return found?.value ?? 0;
}

function requestCount(method, route, status) {
  const labels = {
    http_request_method: method, http_route: route, http_response_status_code: status,
  };
  return sample(REQUESTS, labels, '_count');
}

async function serve(t, app) {
  const server = await startWebServer(app);
  t.after(() => stopWebServer(server));
  return `http://127.0.0.1:${server.address().port}`;
}

test('when a series of the contract is used, then it has the contract\'s type, help, labels and buckets', async () => {
  for (const [name, spec] of Object.entries(contract.metrics)) {
    const made = metric(name);
    assert.ok(made instanceof KINDS[spec.type], `${name} is a ${spec.type}`);
    assert.equal(made.name, name);
    assert.equal(made.help, spec.help);
    assert.deepEqual(made.labelNames, spec.labels);
    assert.equal(metric(name), made, `${name} is made once`);
    if (spec.buckets) assert.deepEqual(made.upperBounds, spec.buckets);
  }
  const text = await register.metrics();
  for (const [name, spec] of Object.entries(contract.metrics)) {
    assert.match(text, new RegExp(`^# TYPE ${name} ${spec.type}$`, 'm'));
  }
  assert.doesNotMatch(text, /_total_total/);
});

test('when a histogram of the contract is observed, then its samples carry the contract\'s buckets', async () => {
  const name = 'messaging_process_duration_seconds';
  metric(name).labels('buckets-topic', 'buckets-group', 'handled').observe(0.02);
  const { values } = await metric(name).get();
  const bounds = values
    .filter((value) => value.metricName === `${name}_bucket`)
    .filter((value) => value.labels.messaging_destination_name === 'buckets-topic')
    .map((value) => value.labels.le);
  assert.deepEqual(bounds, [...contract.metrics[name].buckets, '+Inf']);
});

test('when a series is not in the contract, then asking for it fails', () => {
  assert.throws(() => metric('polyshop_made_up_total'), /no metric polyshop_made_up_total/);
});

test('when routes answer, then each request is timed by method, route template and status', async (t) => {
  const shop = express.Router()
    .get('/items/:id', (req, res) => res.json({ id: req.params.id }))
    .post('/items/:id/broken', () => {
      throw new Error('boom');
    });
  const app = express();
  app.use(requestMetrics());
  app.use('/metrics-test-shop', shop);
  const url = await serve(t, app);
  const before = await requestCount('GET', '', '404');

  assert.equal((await fetch(`${url}/metrics-test-shop/items/7`)).status, 200);
  assert.equal((await fetch(`${url}/metrics-test-shop/items/8`)).status, 200);
  assert.equal((await fetch(`${url}/metrics-test-shop/items/9/broken`, { method: 'POST' })).status, 500);
  assert.equal((await fetch(`${url}/no/such/page`)).status, 404);

  await eventually(async () => (await requestCount('GET', '', '404')) === before + 1, {
    message: 'the 404 timed with an empty route',
  });
  assert.equal(await requestCount('GET', '/metrics-test-shop/items/:id', '200'), 2);
  assert.equal(await requestCount('POST', '/metrics-test-shop/items/:id/broken', '500'), 1);
  const { values } = await metric(REQUESTS).get();
  assert.ok(
    !values.some((value) => /\/no\/such|items\/7/.test(value.labels.http_route ?? '')),
    'no series is named after a path a client asked for',
  );
});

test('when GET /metrics is asked of a service app, then it answers in the text format', async (t) => {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  const hello = express.Router().get('/metrics-test-hello', (req, res) => res.json({ hello: 'world' }));
  const url = await serve(t, createServiceApp({ logger, db, routers: [hello] }));
  assert.equal((await fetch(`${url}/metrics-test-hello`)).status, 200);
  await eventually(async () => (await requestCount('GET', '/metrics-test-hello', '200')) === 1);

  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4; charset=utf-8$/);
  const text = await response.text();
  assert.match(text, /^# HELP http_server_request_duration_seconds Duration of HTTP server requests/m);
  assert.match(text, /^# TYPE http_server_request_duration_seconds histogram$/m);
  const labels = 'http_request_method="GET",http_route="/metrics-test-hello",http_response_status_code="200"';
  assert.ok(
    text.split('\n').includes(`http_server_request_duration_seconds_count{${labels}} 1`),
    'the request is counted under its labels',
  );
});

/** A database file in a folder of its own with the outbox table; removed when the test ends. */
function outboxDatabase(t) {
  const dir = mkdtempSync(join(tmpdir(), 'polyshop-metrics-'));
  const db = openDatabase(join(dir, 'service.db'));
  db.exec(OUTBOX_TABLE);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

function addRow(db, secondsAgo, sent = false) {
  const at = new Date(Date.now() - secondsAgo * 1000).toISOString();
  db.prepare(
    "INSERT INTO outbox (topic, key, value, created_at, sent_at) VALUES ('orders', 'o-1', '{}', ?, ?)",
  ).run(at, sent ? at : null);
}

const backlog = () => sample('polyshop_outbox_backlog_rows', {});
const oldestAge = () => sample('polyshop_outbox_oldest_age_seconds', {});

test('when outbox rows wait, then the backlog and the age of the oldest are read when scraped', async (t) => {
  const db = outboxDatabase(t);
  watchOutbox(db);
  assert.equal(await backlog(), 0);
  assert.equal(await oldestAge(), 0, 'no row waits');

  addRow(db, 120, true); // sent: neither counted nor the oldest
  addRow(db, 30);
  addRow(db, 10);
  assert.equal(await backlog(), 2);
  const age = await oldestAge();
  assert.ok(age >= 30 && age < 60, `the oldest unsent row is about 30 s old, not ${age}`);
  assert.match(await register.metrics(), /^polyshop_outbox_backlog_rows 2$/m);

  db.prepare('UPDATE outbox SET sent_at = created_at').run();
  assert.equal(await backlog(), 0);
  assert.equal(await oldestAge(), 0);
});

test('when the outbox is watched again, then the newer database is the one read', async (t) => {
  const first = outboxDatabase(t);
  const second = outboxDatabase(t);
  addRow(first, 5);
  addRow(first, 5);
  addRow(second, 5);
  watchOutbox(first);
  assert.equal(await backlog(), 2);
  watchOutbox(second);
  assert.equal(await backlog(), 1);
});

test('when a consumer\'s records are timed, then each attempt counts once, by its outcome', async () => {
  const consumer = new ConsumerMetrics('timing-group');
  const outcomes = (outcome) => sample(
    'messaging_process_duration_seconds',
    { messaging_destination_name: 'timing-topic', messaging_consumer_group_name: 'timing-group', outcome },
    '_count',
  );
  const deadLetters = () => sample('polyshop_dead_letters_total', {
    messaging_destination_name: 'timing-topic', messaging_consumer_group_name: 'timing-group',
  });

  consumer.timing('timing-topic').done({ outcome: 'handled' });
  const retriedInPlace = consumer.timing('timing-topic');
  retriedInPlace.failed();
  retriedInPlace.restart();
  retriedInPlace.done({ outcome: 'dead-lettered' });
  const stopped = consumer.timing('timing-topic');
  stopped.failed();
  stopped.done(undefined);

  assert.equal(await outcomes('handled'), 1);
  assert.equal(await outcomes('failed'), 2);
  assert.equal(await outcomes('dead-lettered'), 1);
  assert.equal(await deadLetters(), 1);
  assert.ok(contract.outcomes.includes(FAILED), 'the outcome of a failed attempt is the contract\'s');
});

test('when a batch is done, then the partition\'s lag is the high watermark less the next offset, never below 0', async () => {
  const consumer = new ConsumerMetrics('lag-group');
  const lag = () => sample('polyshop_consumer_lag_records', {
    messaging_destination_name: 'lag-topic',
    messaging_consumer_group_name: 'lag-group',
    messaging_destination_partition_id: '3',
  });
  const batch = {
    topic: 'lag-topic', partition: 3, highWatermark: '10', firstOffset: () => '4',
  };
  consumer.seeBatch(batch, null);
  assert.equal(await lag(), 6, 'nothing done: the batch is still to read');
  consumer.seeBatch(batch, '8');
  assert.equal(await lag(), 2);
  consumer.seeBatch(batch, '10');
  assert.equal(await lag(), 0);
  consumer.seeBatch({ ...batch, highWatermark: '9' }, '10');
  assert.equal(await lag(), 0, 'a high watermark seen before the last record is no negative lag');
});
