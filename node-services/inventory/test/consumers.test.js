/**
 * Inventory's handlers without Kafka: each runs in a transaction as the
 * consumer loop runs it, inside the trace of the event handled, and what it
 * emits is read from the outbox.
 */
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  createLogger, loadContracts, newEvent, unsentRows, within,
} from '@polyshop/common';
import { startTelemetry } from '@polyshop/common/telemetry';
import { inventoryHandlers } from '../src/consumers/index.js';
import { openInventoryDatabase } from '../src/database.js';
import { release, RESERVATION_EXPIRED } from '../src/domain/reservations.js';
import { getStock } from '../src/domain/stock.js';

const contracts = loadContracts();
const logLines = [];
const destination = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(JSON.parse(chunk));
    done();
  },
});
const logger = createLogger({ service: 'inventory-test', destination });
const handlers = inventoryHandlers({ contracts, logger });
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
let db;
let orderId;

await startTelemetry({ service: 'inventory-test' });

beforeEach(() => {
  db = openInventoryDatabase(':memory:', { contractsDir: contracts.dir });
  orderId = randomUUID();
  logLines.length = 0;
});

function handle(type, source, data) {
  const event = contracts.validate(newEvent(type, source, orderId, { order_id: orderId, ...data }));
  const headers = { traceparent: Buffer.from(TRACEPARENT) };
  within({ traceparent: TRACEPARENT }, () => db.transaction(() => handlers[type](event, db, { headers }))());
}

function orderCreated(items) {
  const total = items.reduce((sum, item) => sum + item.quantity * item.price_cents, 0);
  handle('order.created', '/orders', { user: 'alice', items, total_cents: total, currency: 'EUR' });
}

function emitted() {
  return unsentRows(db).map((row) => ({ ...row, event: JSON.parse(row.value), headers: JSON.parse(row.headers) }));
}

const TEA = { sku: 'TEA-SENCHA', quantity: 2, price_cents: 890 };

test('when an order is created and in stock, then inventory.reserved is emitted with user, items, total', () => {
  orderCreated([TEA]);
  const [row] = emitted();
  assert.equal(row.topic, 'inventory');
  assert.equal(row.key, orderId);
  assert.equal(row.event.type, 'inventory.reserved');
  assert.deepEqual(row.event.data, {
    order_id: orderId, user: 'alice', items: [TEA], total_cents: 1780, currency: 'EUR',
  });
  assert.doesNotThrow(() => contracts.validate(row.event));
  assert.deepEqual(row.headers, { traceparent: TRACEPARENT });
});

test('when an order cannot be served, then inventory.rejected names the sku', () => {
  orderCreated([{ sku: 'ESPRESSO-MACHINE', quantity: 9, price_cents: 64900 }]);
  const [row] = emitted();
  assert.equal(row.event.type, 'inventory.rejected');
  assert.match(row.event.data.reason, /ESPRESSO-MACHINE/);
});

test('when a payment is declined after a reservation, then the stock is released and said so', () => {
  orderCreated([TEA]);
  handle('payment.declined', '/payments', {
    payment_id: 'p-1', user: 'alice', amount_cents: 1780, currency: 'EUR', reason: 'over the limit',
  });
  const released = emitted().at(-1);
  assert.equal(released.event.type, 'inventory.released');
  assert.deepEqual(released.event.data.items, [{ sku: 'TEA-SENCHA', quantity: 2 }]);
  assert.equal(released.event.data.reason, 'payment declined: over the limit');
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 80, reserved: 0 });
});

test('when the order is cancelled after the release, then nothing more happens', () => {
  orderCreated([TEA]);
  handle('payment.declined', '/payments', {
    payment_id: 'p-1', user: 'alice', amount_cents: 1780, currency: 'EUR', reason: 'declined',
  });
  handle('order.cancelled', '/orders', { user: 'alice', reason: 'payment declined' });
  assert.deepEqual(emitted().map((row) => row.event.type), ['inventory.reserved', 'inventory.released']);
  assert.equal(getStock(db, 'TEA-SENCHA').available, 80);
});

test('when an order was rejected and is then cancelled, then nothing is released', () => {
  orderCreated([{ sku: 'ESPRESSO-MACHINE', quantity: 9, price_cents: 64900 }]);
  handle('order.cancelled', '/orders', { user: 'alice', reason: 'out of stock' });
  assert.deepEqual(emitted().map((row) => row.event.type), ['inventory.rejected']);
});

test('when an order is confirmed, then the reservation is committed and nothing is emitted', () => {
  orderCreated([TEA]);
  handle('order.confirmed', '/orders', { user: 'alice', total_cents: 1780, currency: 'EUR' });
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 78, reserved: 0 });
  assert.equal(emitted().length, 1);
});

test('when an order is cancelled before its creation arrives, then the creation reserves nothing and says nothing', () => {
  handle('order.cancelled', '/orders', { user: 'alice', reason: 'timed out' });
  orderCreated([TEA]);
  assert.deepEqual(emitted(), []);
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 80, reserved: 0 });
  assert.ok(logLines.some((line) => line.order_id === orderId && /nothing reserved/.test(line.message)));
});

test('when an order is cancelled after its reservation expired, then nothing is released twice', () => {
  orderCreated([TEA]);
  db.transaction(() => release(db, orderId, RESERVATION_EXPIRED))();
  handle('order.cancelled', '/orders', { user: 'alice', reason: 'timed out' });
  assert.deepEqual(emitted().map((row) => row.event.type), ['inventory.reserved']);
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 80, reserved: 0 });
});

test('when an order is confirmed after its reservation expired, then the goods are taken from available', () => {
  orderCreated([TEA]);
  db.transaction(() => release(db, orderId, RESERVATION_EXPIRED))();
  handle('order.confirmed', '/orders', { user: 'alice', total_cents: 1780, currency: 'EUR' });
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 78, reserved: 0 });
  assert.ok(!logLines.some((line) => /oversold/.test(line.message)));
});

test('when an order is confirmed after its reservation expired and the goods are gone, then an oversell is logged', () => {
  const machine = { sku: 'ESPRESSO-MACHINE', quantity: 5, price_cents: 64900 };
  orderCreated([machine]);
  db.transaction(() => release(db, orderId, RESERVATION_EXPIRED))();
  const first = orderId;
  orderId = randomUUID();
  orderCreated([{ ...machine, quantity: 3 }]);
  orderId = first;
  handle('order.confirmed', '/orders', { user: 'alice', total_cents: 324500, currency: 'EUR' });
  assert.deepEqual(getStock(db, 'ESPRESSO-MACHINE'), { sku: 'ESPRESSO-MACHINE', available: 0, reserved: 3 });
  const [oversold] = logLines.filter((line) => /oversold/.test(line.message));
  assert.equal(oversold.level, 'warn');
  assert.deepEqual(oversold.short, [{ sku: 'ESPRESSO-MACHINE', quantity: 3 }]);
});
