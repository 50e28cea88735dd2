/**
 * The domain alone: an in-memory database seeded from the contracts, no
 * network.
 */
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findContractsDir } from '@polyshop/common';
import { openInventoryDatabase } from '../src/database.js';
import {
  commit, findReservation, heldSince, isCancelled, rememberCancelled, release, reserve,
  RESERVATION_EXPIRED,
} from '../src/domain/reservations.js';
import { getStock, listStock } from '../src/domain/stock.js';

const ORDER = 'b3f9f6de-7a0e-4d7b-9a55-0c2f3f1f0a01';
let db;

beforeEach(() => {
  db = openInventoryDatabase(':memory:', { contractsDir: findContractsDir() });
});

test('when the database is new, then the stock comes from the seed products', () => {
  assert.equal(listStock(db).length, 10);
  assert.deepEqual(getStock(db, 'TEA-EARL-GREY'), { sku: 'TEA-EARL-GREY', available: 120, reserved: 0 });
});

test('when every line is in stock, then every line is reserved', () => {
  const result = reserve(db, {
    orderId: ORDER, user: 'alice', items: [{ sku: 'MUG-STONEWARE', quantity: 2 }, { sku: 'TEA-SENCHA', quantity: 1 }],
  });
  assert.equal(result.outcome, 'reserved');
  assert.deepEqual(getStock(db, 'MUG-STONEWARE'), { sku: 'MUG-STONEWARE', available: 38, reserved: 2 });
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 79, reserved: 1 });
  assert.equal(findReservation(db, ORDER).status, 'HELD');
});

test('when one line is short, then nothing is reserved and the reason names the sku', () => {
  const result = reserve(db, {
    orderId: ORDER, user: 'alice', items: [{ sku: 'MUG-STONEWARE', quantity: 2 }, { sku: 'ESPRESSO-MACHINE', quantity: 6 }],
  });
  assert.deepEqual(result, {
    outcome: 'rejected', reason: 'not enough stock for ESPRESSO-MACHINE: 6 requested, 5 available',
  });
  assert.equal(getStock(db, 'MUG-STONEWARE').available, 40);
  assert.equal(findReservation(db, ORDER).status, 'REJECTED');
});

test('when a sku is unknown, then the order is rejected naming it', () => {
  const result = reserve(db, { orderId: ORDER, user: 'alice', items: [{ sku: 'NO-SUCH', quantity: 1 }] });
  assert.deepEqual(result, { outcome: 'rejected', reason: 'unknown sku NO-SUCH' });
});

test('when a sku appears on two lines, then the quantities are added before checking', () => {
  const items = [{ sku: 'ESPRESSO-MACHINE', quantity: 3 }, { sku: 'ESPRESSO-MACHINE', quantity: 3 }];
  assert.equal(reserve(db, { orderId: ORDER, user: 'alice', items }).outcome, 'rejected');
  const fits = [{ sku: 'KETTLE-GOOSENECK', quantity: 4 }, { sku: 'KETTLE-GOOSENECK', quantity: 6 }];
  const other = 'b3f9f6de-7a0e-4d7b-9a55-0c2f3f1f0a02';
  assert.equal(reserve(db, { orderId: other, user: 'alice', items: fits }).outcome, 'reserved');
  assert.deepEqual(getStock(db, 'KETTLE-GOOSENECK'), { sku: 'KETTLE-GOOSENECK', available: 0, reserved: 10 });
});

test('when an order is reserved a second time, then nothing changes', () => {
  const order = { orderId: ORDER, user: 'alice', items: [{ sku: 'TEA-SENCHA', quantity: 5 }] };
  reserve(db, order);
  assert.deepEqual(reserve(db, order), { outcome: 'duplicate' });
  assert.equal(getStock(db, 'TEA-SENCHA').reserved, 5);
});

test('when a held reservation is released, then the stock is available again, once', () => {
  reserve(db, { orderId: ORDER, user: 'alice', items: [{ sku: 'TEA-SENCHA', quantity: 5 }] });
  assert.deepEqual(release(db, ORDER, 'payment declined'), [{ sku: 'TEA-SENCHA', quantity: 5 }]);
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 80, reserved: 0 });
  assert.equal(release(db, ORDER, 'order cancelled'), null);
  assert.equal(getStock(db, 'TEA-SENCHA').available, 80);
});

test('when there is no held reservation, then release does nothing', () => {
  assert.equal(release(db, ORDER, 'order cancelled'), null);
  reserve(db, { orderId: ORDER, user: 'alice', items: [{ sku: 'NO-SUCH', quantity: 1 }] });
  assert.equal(release(db, ORDER, 'order cancelled'), null);
});

test('when a held reservation is committed, then the goods are gone from reserved, once', () => {
  reserve(db, { orderId: ORDER, user: 'alice', items: [{ sku: 'TEA-SENCHA', quantity: 5 }] });
  assert.deepEqual(commit(db, ORDER), { short: [] });
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 75, reserved: 0 });
  assert.equal(commit(db, ORDER), null);
  assert.equal(release(db, ORDER, 'late cancel'), null, 'a sold reservation is not released');
  assert.equal(getStock(db, 'TEA-SENCHA').available, 75);
});

test('when an order is known to be cancelled, then reserving it holds nothing', () => {
  rememberCancelled(db, ORDER, 'timed out');
  assert.equal(isCancelled(db, ORDER), true);
  const result = reserve(db, { orderId: ORDER, user: 'alice', items: [{ sku: 'TEA-SENCHA', quantity: 5 }] });
  assert.deepEqual(result, { outcome: 'cancelled' });
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 80, reserved: 0 });
  assert.equal(findReservation(db, ORDER), undefined);
});

test('when reservations are asked for by age, then only those held since before the cutoff come', () => {
  reserve(db, { orderId: ORDER, user: 'alice', items: [{ sku: 'TEA-SENCHA', quantity: 1 }] });
  const future = new Date(Date.now() + 60_000).toISOString();
  const past = new Date(Date.now() - 60_000).toISOString();
  assert.deepEqual(heldSince(db, future), [ORDER]);
  assert.deepEqual(heldSince(db, past), []);
  release(db, ORDER, RESERVATION_EXPIRED);
  assert.deepEqual(heldSince(db, future), []);
});

test('when an expired reservation is confirmed, then the goods are taken from available', () => {
  reserve(db, { orderId: ORDER, user: 'alice', items: [{ sku: 'TEA-SENCHA', quantity: 5 }] });
  release(db, ORDER, RESERVATION_EXPIRED);
  assert.deepEqual(commit(db, ORDER), { short: [] });
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 75, reserved: 0 });
  assert.equal(findReservation(db, ORDER).status, 'COMMITTED');
  assert.equal(commit(db, ORDER), null, 'sold once');
  assert.equal(getStock(db, 'TEA-SENCHA').available, 75);
});

test('when an expired reservation is confirmed and the goods were sold meanwhile, then the shortfall is reported', () => {
  const items = [{ sku: 'ESPRESSO-MACHINE', quantity: 3 }, { sku: 'TEA-SENCHA', quantity: 1 }];
  reserve(db, { orderId: ORDER, user: 'alice', items });
  release(db, ORDER, RESERVATION_EXPIRED);
  const other = 'b3f9f6de-7a0e-4d7b-9a55-0c2f3f1f0a02';
  reserve(db, { orderId: other, user: 'bob', items: [{ sku: 'ESPRESSO-MACHINE', quantity: 4 }] });
  assert.deepEqual(commit(db, ORDER), { short: [{ sku: 'ESPRESSO-MACHINE', quantity: 2 }] });
  assert.deepEqual(getStock(db, 'ESPRESSO-MACHINE'), { sku: 'ESPRESSO-MACHINE', available: 0, reserved: 4 });
  assert.equal(getStock(db, 'TEA-SENCHA').available, 79);
});

test('when a reservation released for another reason is confirmed, then nothing is sold', () => {
  reserve(db, { orderId: ORDER, user: 'alice', items: [{ sku: 'TEA-SENCHA', quantity: 5 }] });
  release(db, ORDER, 'payment declined');
  assert.equal(commit(db, ORDER), null);
  assert.equal(getStock(db, 'TEA-SENCHA').available, 80);
});

test('when a seed file is given, then a new database takes its stock instead', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inventory-seed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const seedFile = join(dir, 'products.json');
  writeFileSync(seedFile, JSON.stringify({ products: [{ sku: 'TEA-EARL-GREY', stock: 5000 }] }));
  const seeded = openInventoryDatabase(':memory:', { contractsDir: findContractsDir(), seedFile });
  assert.deepEqual(listStock(seeded), [{ sku: 'TEA-EARL-GREY', available: 5000, reserved: 0 }]);
});
