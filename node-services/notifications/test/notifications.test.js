/**
 * The domain alone: an in-memory database, no network.
 */
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { openNotificationsDatabase } from '../src/database.js';
import {
  addNotification, messageFor, notificationsOfOrder, ownerOf, recentNotifications, recordOwner,
} from '../src/domain/notifications.js';

const ORDER = '0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10';
let db;

beforeEach(() => {
  db = openNotificationsDatabase(':memory:');
});

const confirmed = {
  type: 'order.confirmed',
  data: { order_id: ORDER, user: 'alice', total_cents: 2700, currency: 'EUR' },
};
const cancelled = {
  type: 'order.cancelled',
  data: { order_id: ORDER, user: 'alice', reason: 'payment declined: over the limit' },
};

test('when an order is confirmed, then the message gives the items and the total', () => {
  const summary = { id: ORDER, status: 'CONFIRMED', items: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }], total_cents: 2700 };
  assert.equal(messageFor(confirmed, summary), 'Your order 0b6a7a52 (3 items) is confirmed: 27.00 EUR will be charged.');
});

test('when an order is cancelled, then the message gives the reason', () => {
  const summary = { id: ORDER, status: 'CANCELLED', items: [{ sku: 'A', quantity: 1 }], total_cents: 650, reason: 'out of stock' };
  assert.equal(messageFor(cancelled, summary), 'Your order 0b6a7a52 (1 item) was cancelled: out of stock.');
});

test('when orders had no summary, then the message comes from the event alone', () => {
  assert.equal(messageFor(confirmed, null), 'Your order 0b6a7a52 is confirmed: 27.00 EUR will be charged.');
  assert.equal(messageFor(cancelled, null), 'Your order 0b6a7a52 was cancelled: payment declined: over the limit.');
});

test('when the same notification is added twice, then it is stored once', () => {
  const notification = { orderId: ORDER, user: 'alice', type: 'order.confirmed', message: 'm' };
  const id = addNotification(db, notification);
  assert.equal(notificationsOfOrder(db, ORDER)[0].id, id);
  assert.equal(addNotification(db, notification), null);
  assert.equal(notificationsOfOrder(db, ORDER).length, 1);
});

test('when an owner is recorded twice, then the first one stays', () => {
  recordOwner(db, ORDER, 'alice');
  recordOwner(db, ORDER, 'mallory');
  assert.equal(ownerOf(db, ORDER), 'alice');
  assert.equal(ownerOf(db, 'other'), undefined);
});

test('when listing recent notifications, then only the user\'s come, newest first', () => {
  addNotification(db, { orderId: 'o-1', user: 'alice', type: 'order.confirmed', message: 'first' });
  addNotification(db, { orderId: 'o-2', user: 'bob', type: 'order.confirmed', message: 'bob\'s' });
  addNotification(db, { orderId: 'o-3', user: 'alice', type: 'order.cancelled', message: 'second' });
  assert.deepEqual(recentNotifications(db, 'alice').map((n) => n.message), ['second', 'first']);
  assert.equal(recentNotifications(db, null).length, 3);
  assert.equal(recentNotifications(db, 'alice', 1).length, 1);
});
