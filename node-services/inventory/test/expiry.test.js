/**
 * The reservation expiry sweeper with an in-memory database and a clock
 * the test moves; what it emits is read from the outbox.
 */
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ConfigError, createLogger, loadContracts, unsentRows } from '@polyshop/common';
import { eventually } from '@polyshop/common/testing';
import { loadConfig } from '../src/config.js';
import { openInventoryDatabase } from '../src/database.js';
import { findReservation, release, reserve } from '../src/domain/reservations.js';
import { getStock } from '../src/domain/stock.js';
import { createExpirySweeper } from '../src/expiry.js';

const contracts = loadContracts();
const logger = createLogger({ service: 'inventory-test', level: 'silent' });
const TTL_SECONDS = 120;
let db;
let clock;
let wakes;
let sweeper;

beforeEach(() => {
  db = openInventoryDatabase(':memory:', { contractsDir: contracts.dir });
  clock = Date.now();
  wakes = 0;
  sweeper = createExpirySweeper({
    db, contracts, logger, ttlSeconds: TTL_SECONDS, onReleased: () => { wakes += 1; }, now: () => clock,
  });
});

function reserveTea(quantity = 2) {
  const orderId = randomUUID();
  reserve(db, { orderId, user: 'alice', items: [{ sku: 'TEA-SENCHA', quantity }] });
  return orderId;
}

function emitted() {
  return unsentRows(db).map((row) => JSON.parse(row.value));
}

test('when a reservation is held past its time to live, then it is released and said so', () => {
  const orderId = reserveTea();
  clock += (TTL_SECONDS + 1) * 1000;
  assert.deepEqual(sweeper.sweep(), [orderId]);
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 80, reserved: 0 });
  const [event] = emitted();
  assert.doesNotThrow(() => contracts.validate(event));
  assert.equal(event.type, 'inventory.released');
  assert.deepEqual(event.data, {
    order_id: orderId, items: [{ sku: 'TEA-SENCHA', quantity: 2 }], reason: 'reservation expired',
  });
  assert.equal(wakes, 1);
});

test('when a reservation is younger than its time to live, then it stays held', () => {
  reserveTea();
  clock += (TTL_SECONDS - 1) * 1000;
  assert.deepEqual(sweeper.sweep(), []);
  assert.equal(getStock(db, 'TEA-SENCHA').reserved, 2);
  assert.deepEqual(emitted(), []);
  assert.equal(wakes, 0);
});

test('when the sweep runs again, then nothing is released twice', () => {
  reserveTea();
  clock += (TTL_SECONDS + 1) * 1000;
  sweeper.sweep();
  assert.deepEqual(sweeper.sweep(), []);
  assert.equal(emitted().length, 1);
  assert.deepEqual(getStock(db, 'TEA-SENCHA'), { sku: 'TEA-SENCHA', available: 80, reserved: 0 });
});

test('when a reservation was released already, then the sweep leaves it alone', () => {
  const orderId = reserveTea();
  release(db, orderId, 'order cancelled: timed out');
  clock += (TTL_SECONDS + 1) * 1000;
  assert.deepEqual(sweeper.sweep(), []);
  assert.equal(findReservation(db, orderId).reason, 'order cancelled: timed out');
  assert.equal(getStock(db, 'TEA-SENCHA').available, 80);
});

test('when started, then it sweeps on its own timer until it is stopped', async () => {
  const orderId = reserveTea();
  const running = createExpirySweeper({ db, contracts, logger, ttlSeconds: 0.001, intervalMs: 5 });
  running.start();
  assert.equal(running.isRunning, true);
  try {
    await eventually(() => findReservation(db, orderId).status === 'RELEASED');
  } finally {
    running.stop();
  }
  assert.equal(running.isRunning, false);
  assert.equal(getStock(db, 'TEA-SENCHA').reserved, 0);
});

// What inventory's configuration needs besides the time to live.
const REQUIRED = { REGISTRY_TOKEN: 'r'.repeat(32), AUTH_ISSUER: 'http://127.0.0.1:8080' };

test('when no time to live is set, then reservations expire after 120 seconds', () => {
  assert.equal(loadConfig(REQUIRED).reservationTtlSeconds, 120);
  assert.equal(loadConfig({ ...REQUIRED, INVENTORY_RESERVATION_TTL_SECONDS: '6' }).reservationTtlSeconds, 6);
});

for (const raw of ['soon', '0', '-5', 'Infinity']) {
  test(`when the time to live is "${raw}", then start-up stops naming the variable`, () => {
    assert.throws(
      () => loadConfig({ ...REQUIRED, INVENTORY_RESERVATION_TTL_SECONDS: raw }),
      (error) => error instanceof ConfigError && /INVENTORY_RESERVATION_TTL_SECONDS/.test(error.message),
    );
  });
}
