/**
 * Notifications' handlers without Kafka, against a stand-in orders
 * instance on port 0 and a test issuer on port 0 that gives notifications
 * its tokens for orders: each handler runs as the consumer loop runs it
 * (prepare, then apply in a transaction), inside the trace of the event
 * handled, and what it emits is read from the outbox.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  createLogger, createServiceClient, createServiceTokens, createTokenVerifier, isTransient,
  loadContracts, newEvent, ServiceTokenError, ServiceUnavailable, unsentRows, within,
} from '@polyshop/common';
import { startTelemetry } from '@polyshop/common/telemetry';
import { startTestIssuer } from '@polyshop/common/testing';
import { orderHandlers } from '../src/consumers/orders.js';
import { openNotificationsDatabase } from '../src/database.js';
import { notificationsOfOrder, ownerOf } from '../src/domain/notifications.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const logger = createLogger({ service: 'notifications-test', level: 'silent' });
const contracts = loadContracts();
const ordersSeen = [];
let ordersAnswer;
let ordersServer;
let issuer;
let instances;
let handlers;
let db;
let orderId;

before(async () => {
  await startTelemetry({ service: 'notifications-test' });
  ordersServer = http.createServer((req, res) => {
    ordersSeen.push({ url: req.url, headers: req.headers });
    const { status, body } = ordersAnswer();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  ordersServer.listen(0, '127.0.0.1');
  await once(ordersServer, 'listening');
  issuer = await startTestIssuer({ clients: { notifications: { audiences: ['orders'] } } });
  const discovery = { instances: () => instances };
  const orders = createServiceClient({ discovery, service: 'orders', timeoutMs: 500, logger });
  handlers = orderHandlers({ orders, serviceTokens: tokensFrom(issuer), contracts, logger });
});

after(async () => {
  await new Promise((resolve) => ordersServer.close(resolve));
  await issuer.stop();
});

function tokensFrom(from, clientSecret = from.clientSecret('notifications')) {
  return createServiceTokens({ issuer: from.url, clientId: 'notifications', clientSecret, logger });
}

beforeEach(() => {
  db = openNotificationsDatabase(':memory:');
  orderId = randomUUID();
  ordersSeen.length = 0;
  instances = [{ instance_id: 'orders-1', host: '127.0.0.1', port: ordersServer.address().port }];
  ordersAnswer = () => ({
    status: 200,
    body: { id: orderId, status: 'CONFIRMED', items: [{ sku: 'TEA-SENCHA', quantity: 2 }], total_cents: 1780 },
  });
});

function event(type, data) {
  return contracts.validate(newEvent(type, '/orders', orderId, { order_id: orderId, user: 'alice', ...data }));
}

/** As the consumer loop does it: prepare outside, apply inside a transaction, in the event's trace. */
function handle(incoming) {
  const handler = handlers[incoming.type];
  const context = { headers: { traceparent: Buffer.from(TRACEPARENT) } };
  return within({ traceparent: TRACEPARENT }, async () => {
    if (typeof handler === 'function') {
      db.transaction(() => handler(incoming, db, context))();
      return;
    }
    const prepared = await handler.prepare(incoming, context);
    db.transaction(() => handler.apply(incoming, db, { ...context, prepared }))();
  });
}

function emitted() {
  return unsentRows(db).map((row) => ({ ...row, event: JSON.parse(row.value), headers: JSON.parse(row.headers) }));
}

const CONFIRMED = { total_cents: 1780, currency: 'EUR' };

test('when an order is confirmed, then a notification is stored with orders\' summary', async () => {
  await handle(event('order.confirmed', CONFIRMED));
  const [notification] = notificationsOfOrder(db, orderId);
  assert.equal(notification.user, 'alice');
  assert.equal(notification.type, 'order.confirmed');
  assert.match(notification.message, /\(2 items\) is confirmed: 17\.80 EUR/);
  assert.equal(ownerOf(db, orderId), 'alice');
});

test('when orders is asked, then the call carries a service token for orders and the trace', async () => {
  await handle(event('order.confirmed', CONFIRMED));
  const [call] = ordersSeen;
  assert.equal(call.url, `/orders/${orderId}`);
  // The context of the call's own span, in the event's trace (one header, not two).
  assert.match(call.headers.traceparent, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  assert.notEqual(call.headers.traceparent, TRACEPARENT);
  const verifier = createTokenVerifier({ issuer: issuer.url, service: 'orders', logger });
  const principal = await verifier.verify(call.headers.authorization.replace('Bearer ', ''));
  assert.deepEqual(principal, { name: 'service:notifications', isService: true });
});

test('when orders is asked for several events, then the gateway is asked for a token at most once', async () => {
  const before = issuer.requests.token;
  await handle(event('order.confirmed', CONFIRMED));
  await handle(event('order.cancelled', { reason: 'inventory rejected' }));
  assert.equal(ordersSeen.length, 2);
  assert.ok(issuer.requests.token - before <= 1);
});

test('when the gateway refuses notifications a token, then the handler fails and orders is not called', async () => {
  const refusing = orderHandlers({
    orders: createServiceClient({ discovery: { instances: () => instances }, service: 'orders', logger }),
    serviceTokens: tokensFrom(issuer, 'not-the-secret-of-notifications-0123'),
    contracts,
    logger,
  });
  const confirmed = event('order.confirmed', CONFIRMED);
  await assert.rejects(refusing[confirmed.type].prepare(confirmed, { headers: {} }), ServiceTokenError);
  assert.equal(ordersSeen.length, 0);
});

test('when an order is cancelled, then the notification gives orders\' reason', async () => {
  ordersAnswer = () => ({
    status: 200,
    body: { id: orderId, status: 'CANCELLED', items: [{ sku: 'X', quantity: 1 }], total_cents: 100, reason: 'out of stock' },
  });
  await handle(event('order.cancelled', { reason: 'inventory rejected' }));
  assert.match(notificationsOfOrder(db, orderId)[0].message, /was cancelled: out of stock\.$/);
});

test('when an order is confirmed, then one notification.sent goes into the outbox with the trace', async () => {
  await handle(event('order.confirmed', CONFIRMED));
  const [notification] = notificationsOfOrder(db, orderId);
  const rows = emitted();
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.equal(row.topic, 'notifications');
  assert.equal(row.key, orderId);
  assert.doesNotThrow(() => contracts.validate(row.event));
  assert.equal(row.event.type, 'notification.sent');
  assert.equal(row.event.source, '/notifications');
  assert.equal(row.event.subject, orderId);
  assert.deepEqual(row.event.data, {
    order_id: orderId, user: 'alice', notification_id: notification.id, about: 'order.confirmed',
  });
  assert.deepEqual(row.headers, { traceparent: TRACEPARENT });
});

test('when an order is cancelled, then notification.sent tells what it was about', async () => {
  await handle(event('order.cancelled', { reason: 'inventory rejected' }));
  assert.deepEqual(emitted().map((row) => row.event.data.about), ['order.cancelled']);
});

test('when an order event comes again, then nothing more is emitted', async () => {
  const confirmed = event('order.confirmed', CONFIRMED);
  await handle(confirmed);
  await handle(confirmed);
  // The same news under a new event id, as a second relay of orders may send it.
  await handle(event('order.confirmed', CONFIRMED));
  assert.equal(notificationsOfOrder(db, orderId).length, 1);
  assert.equal(emitted().length, 1);
});

test('when no orders instance answers, then the handler fails and nothing is stored', async () => {
  instances = [];
  await assert.rejects(handle(event('order.confirmed', CONFIRMED)), ServiceUnavailable);
  assert.deepEqual(notificationsOfOrder(db, orderId), []);
  assert.deepEqual(emitted(), []);
});

test('when orders fails with a 5xx, then the handler fails transiently so the event is retried', async () => {
  ordersAnswer = () => ({ status: 503, body: { title: 'Service Unavailable' } });
  await assert.rejects(handle(event('order.confirmed', CONFIRMED)), (error) => {
    assert.equal(error.status, 503);
    assert.equal(isTransient(error), true);
    return true;
  });
  assert.deepEqual(notificationsOfOrder(db, orderId), []);
});

test('when orders does not know the order, then the notification is written from the event', async () => {
  ordersAnswer = () => ({ status: 404, body: { title: 'Not Found' } });
  await handle(event('order.confirmed', CONFIRMED));
  assert.match(notificationsOfOrder(db, orderId)[0].message, /is confirmed: 17\.80 EUR/);
});

test('when an order is created, then only its owner is recorded', async () => {
  await handle(event('order.created', {
    items: [{ sku: 'TEA-SENCHA', quantity: 1, price_cents: 890 }], total_cents: 890, currency: 'EUR',
  }));
  assert.equal(ownerOf(db, orderId), 'alice');
  assert.deepEqual(notificationsOfOrder(db, orderId), []);
  assert.equal(ordersSeen.length, 0);
  assert.deepEqual(emitted(), []);
});
