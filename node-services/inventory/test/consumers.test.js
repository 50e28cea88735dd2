/**
 * Inventory's handlers without Kafka: each runs in a transaction as the
 * consumer loop runs it, and what it emits is read from the outbox.
 */
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { loadContracts, newEvent, unsentRows } from '@polyshop/common';
import { inventoryHandlers } from '../src/consumers/index.js';
import { openInventoryDatabase } from '../src/database.js';
import { getStock } from '../src/domain/stock.js';

const contracts = loadContracts();
const handlers = inventoryHandlers({ contracts });
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
let db;
let orderId;

beforeEach(() => {
  db = openInventoryDatabase(':memory:', { contractsDir: contracts.dir });
  orderId = randomUUID();
});

function handle(type, source, data) {
  const event = contracts.validate(newEvent(type, source, orderId, { order_id: orderId, ...data }));
  const headers = { traceparent: Buffer.from(TRACEPARENT) };
  db.transaction(() => handlers[type](event, db, { headers }))();
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
