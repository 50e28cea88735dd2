import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addToCart, orderItems, parseQuantity, setQuantity } from '../src/domain/cart.js';
import { formatMoney } from '../src/domain/money.js';
import { recentOrders, recordStep, statusOf, stepsOf } from '../src/domain/timeline.js';
import { latestDeadLetters, recordDeadLetter } from '../src/domain/dead-letters.js';
import { openStorefrontDatabase } from '../src/database.js';
import { mergeGatewayStatus } from '../src/live/gateway-status.js';

const ORDER = '0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10';

function event(type, source, time, data = {}) {
  return { id: `${type}-${time}`, type, source, time, data: { order_id: ORDER, user: 'alice', ...data } };
}

describe('the cart', () => {
  test('when a product is added twice, then its quantities add up, capped at 100', () => {
    const cart = addToCart(addToCart({}, 'TEA', 60), 'TEA', 60);
    assert.deepEqual(cart, { TEA: 100 });
  });

  test('when a quantity is set to 0, then the line is gone', () => {
    assert.deepEqual(setQuantity({ TEA: 2, MUG: 1 }, 'TEA', 0), { MUG: 1 });
  });

  test('when items are listed, then they come in sku order, so one cart is one request body', () => {
    assert.deepEqual(orderItems({ MUG: 1, HONEY: 2 }), [
      { sku: 'HONEY', quantity: 2 }, { sku: 'MUG', quantity: 1 },
    ]);
  });

  for (const text of ['', '-1', '1.5', '101', 'abc', ' 2x']) {
    test(`when the quantity field is "${text}", then it is refused`, () => {
      assert.equal(parseQuantity(text), null);
    });
  }
});

test('when cents are formatted, then people read them in the currency', () => {
  assert.equal(formatMoney(2770, 'EUR'), '€27.70');
});

describe('the timeline', () => {
  test('when an event comes twice, then it is one step; steps keep their time order', () => {
    const db = openStorefrontDatabase(':memory:');
    const later = event('payment.declined', '/payments', '2026-12-02T10:00:02.000Z', { reason: 'over the limit' });
    const first = event('order.created', '/orders', '2026-12-02T10:00:00.000Z');
    assert.equal(recordStep(db, later), true);
    assert.equal(recordStep(db, first), true);
    assert.equal(recordStep(db, first), false);

    const steps = stepsOf(db, ORDER);

    assert.deepEqual(steps.map((step) => [step.type, step.service]), [
      ['order.created', 'orders'], ['payment.declined', 'payments'],
    ]);
    assert.equal(steps[1].reason, 'over the limit');
    assert.equal(steps[1].label, 'Payment declined');
  });

  test('when the timeline knows the final step before orders does, then the page shows it', () => {
    const db = openStorefrontDatabase(':memory:');
    recordStep(db, event('order.created', '/orders', '2026-12-02T10:00:00.000Z'));
    const pending = { status: 'PENDING', reason: null };
    assert.deepEqual(statusOf(pending, stepsOf(db, ORDER)), pending);

    recordStep(db, event('order.cancelled', '/orders', '2026-12-02T10:00:01.000Z', { reason: 'no stock' }));

    assert.deepEqual(statusOf(pending, stepsOf(db, ORDER)), { status: 'CANCELLED', reason: 'no stock' });
    assert.deepEqual(statusOf({ status: 'CONFIRMED' }, []), { status: 'CONFIRMED', reason: undefined });
  });

  test('when lanes are read, then they show no reason and no user', () => {
    const db = openStorefrontDatabase(':memory:');
    recordStep(db, event('order.cancelled', '/orders', '2026-12-02T10:00:00.000Z', { reason: 'no stock' }));

    const [lane] = recentOrders(db);

    assert.equal(lane.order_id, ORDER);
    assert.equal(JSON.stringify(lane).includes('no stock'), false);
    assert.equal(JSON.stringify(lane).includes('alice'), false);
  });
});

test('when more dead letters come than are kept, then the newest stay', () => {
  const db = openStorefrontDatabase(':memory:');
  for (let offset = 0; offset < 25; offset += 1) {
    recordDeadLetter(db, {
      topic: 'orders.dlq', partition: 0, offset: String(offset),
      headers: { 'dlq-reason': `bad ${offset}`, 'dlq-group': 'inventory' }, timestamp: 1_000 + offset,
    });
  }
  const latest = latestDeadLetters(db, 'orders.dlq', 30);
  assert.equal(latest.length, 20);
  assert.equal(latest[0].reason, 'bad 24');
  assert.equal(latest[0].source, 'inventory');
});

describe('the gateway status of several workers', () => {
  const status = (worker, requests, breaker) => ({
    worker,
    routes: [{ prefix: '/api/orders', service: 'orders', requests, errors: 1, requests_per_second: 1.25, errors_per_second: 0 }],
    instances: [{ service: 'orders', instance_id: 'orders-1', host: 'h', port: 1, breaker, ejections: 1, outstanding: 0 }],
  });

  test('when two workers answered, then counts add up and the worse breaker shows', () => {
    const workers = new Map([
      ['1', { status: status('1', 10, 'closed'), seenAt: 1000 }],
      ['2', { status: status('2', 5, 'open'), seenAt: 1000 }],
    ]);
    const merged = mergeGatewayStatus(workers, 2000);
    assert.equal(merged.routes[0].requests, 15);
    assert.equal(merged.routes[0].requests_per_second, 2.5);
    assert.equal(merged.instances[0].breaker, 'open');
    assert.equal(merged.instances[0].ejections, 2);
  });

  test('when a worker was not heard from for a while, then it is left out', () => {
    const workers = new Map([
      ['1', { status: status('1', 10, 'closed'), seenAt: 1000 }],
      ['2', { status: status('2', 5, 'open'), seenAt: 20_000 }],
    ]);
    const merged = mergeGatewayStatus(workers, 21_000);
    assert.equal(merged.workers, 1);
    assert.equal(merged.routes[0].requests, 5);
  });
});
