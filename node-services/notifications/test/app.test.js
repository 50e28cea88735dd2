/**
 * Notifications' HTTP API, served by createApp on port 0 with an in-memory
 * database; the tokens come from a test issuer on port 0, whose keys
 * notifications fetches over HTTP as it does the gateway's.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  createLogger, findContractsDir, startWebServer, stopWebServer,
} from '@polyshop/common';
import {
  expressOperations, openapiOperations, randomSecret, startTestIssuer,
} from '@polyshop/common/testing';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openNotificationsDatabase } from '../src/database.js';
import { addNotification, recordOwner } from '../src/domain/notifications.js';

const logger = createLogger({ service: 'notifications-test', level: 'silent' });
const ALICE_ORDER = '11111111-1111-4111-8111-111111111111';
const BOB_ORDER = '22222222-2222-4222-8222-222222222222';
let issuer;
let app;
let server;
let baseUrl;
const auth = {};

before(async () => {
  issuer = await startTestIssuer();
  const config = loadConfig({
    REGISTRY_TOKEN: randomSecret(), AUTH_ISSUER: issuer.url, AUTH_CLIENT_SECRET: randomSecret(),
  });
  const db = openNotificationsDatabase(':memory:');
  recordOwner(db, ALICE_ORDER, 'alice');
  recordOwner(db, BOB_ORDER, 'bob');
  addNotification(db, { orderId: ALICE_ORDER, user: 'alice', type: 'order.confirmed', message: 'yours' });
  addNotification(db, { orderId: BOB_ORDER, user: 'bob', type: 'order.cancelled', message: 'bob\'s' });
  app = createApp({ config, logger, db, readiness: { registered: () => true } });
  server = await startWebServer(app);
  baseUrl = `http://127.0.0.1:${server.address().port}`;
  auth.alice = { authorization: `Bearer ${await issuer.userToken('alice')}` };
  auth.gateway = { authorization: `Bearer ${await issuer.serviceToken('gateway', 'notifications')}` };
  auth.toOrders = { authorization: `Bearer ${await issuer.serviceToken('gateway', 'orders')}` };
});

after(async () => {
  await stopWebServer(server);
  await issuer.stop();
});

const get = (path, headers = {}) => fetch(`${baseUrl}${path}`, { headers });

test('when a user asks for their order\'s notifications, then they get them', async () => {
  const response = await get(`/notifications?order_id=${ALICE_ORDER}`, auth.alice);
  assert.equal(response.status, 200);
  const [notification, ...rest] = await response.json();
  assert.deepEqual(rest, []);
  assert.deepEqual(Object.keys(notification).sort(), ['created_at', 'id', 'message', 'order_id', 'type', 'user']);
  assert.equal(notification.message, 'yours');
});

test('when a user asks for another user\'s order, then the answer is a 404 problem', async () => {
  const response = await get(`/notifications?order_id=${BOB_ORDER}`, auth.alice);
  assert.equal(response.status, 404);
  assert.match(response.headers.get('content-type'), /^application\/problem\+json/);
});

test('when a user asks for an order nobody has seen, then the answer is the same 404', async () => {
  const response = await get('/notifications?order_id=33333333-3333-4333-8333-333333333333', auth.alice);
  assert.equal(response.status, 404);
});

test('when a service asks for any order, then it gets its notifications', async () => {
  const response = await get(`/notifications?order_id=${BOB_ORDER}`, auth.gateway);
  assert.deepEqual((await response.json()).map((n) => n.message), ['bob\'s']);
});

test('when a service\'s token is for another service, then the answer is 401', async () => {
  const response = await get(`/notifications?order_id=${BOB_ORDER}`, auth.toOrders);
  assert.equal(response.status, 401);
});

test('when no order is named, then the user gets their recent notifications only', async () => {
  const response = await get('/notifications', auth.alice);
  assert.deepEqual((await response.json()).map((n) => n.order_id), [ALICE_ORDER]);
});

test('when order_id is given twice or limit is out of range, then a 400 problem answers', async () => {
  const twice = await get(`/notifications?order_id=${ALICE_ORDER}&order_id=${BOB_ORDER}`, auth.alice);
  assert.equal(twice.status, 400);
  assert.equal((await get('/notifications?limit=0', auth.alice)).status, 400);
});

test('when no token is sent, then the answer is 401', async () => {
  const response = await get(`/notifications?order_id=${ALICE_ORDER}`, { 'x-user': 'alice' });
  assert.equal(response.status, 401);
});

test('when the routes are compared with contracts/openapi/notifications.yaml, then they match', () => {
  const file = join(findContractsDir(), 'openapi', 'notifications.yaml');
  assert.deepEqual(expressOperations(app), openapiOperations(file));
});
