/**
 * The parts of dead letters that need no broker: ids, the redrive record's
 * bytes (the Python twin's, exactly), and the headers a redrive sends.
 * Reading and redriving are tested against a broker in test/integration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BadLetterId, DeadLetter, LetterId, Redrive,
} from '../../src/dead-letters.js';

const redrive = new Redrive({
  letter: 'orders.dlq/1/0', topic: 'orders', partition: 2, offset: 41, time: '2026-12-02T10:00:00.123Z',
});

for (const text of ['', 'orders.dlq', 'orders.dlq/0', 'orders.dlq/a/1', 'a b/0/1', 'orders.dlq/-1/0']) {
  test(`when an id is ${JSON.stringify(text)}, then it is refused as not DLQTOPIC/PARTITION/OFFSET`, () => {
    assert.throws(() => LetterId.parse(text), (error) => (
      error instanceof BadLetterId && /DLQTOPIC\/PARTITION\/OFFSET/.test(error.message)));
  });
}

test('when an id is parsed, then it reads back as it is written', () => {
  const id = LetterId.parse(' orders.dlq/2/41 ');
  assert.deepEqual([id.topic, id.partition, id.offset], ['orders.dlq', 2, 41]);
  assert.equal(String(id), 'orders.dlq/2/41');
});

test('when a redrive is recorded, then its value is the JSON the Python twin writes', () => {
  assert.equal(redrive.encode().toString(),
    '{"topic": "orders", "partition": 2, "offset": 41, "time": "2026-12-02T10:00:00.123Z"}');
  assert.deepEqual(Redrive.decode(Buffer.from('orders.dlq/1/0'), redrive.encode()), redrive);
  assert.equal(redrive.target, 'orders/2/41');
});

test('when a redrive is read, then fields it does not know are left out', () => {
  const value = Buffer.from('{"topic": "orders", "partition": 2, "offset": 41, "time": "t", "by": "x"}');
  assert.deepEqual(Object.keys(Redrive.decode(Buffer.from('orders.dlq/1/0'), value)),
    ['letter', 'topic', 'partition', 'offset', 'time']);
});

const letter = new DeadLetter({
  id: new LetterId('orders.dlq', 1, 0),
  timestampMs: 0,
  key: Buffer.from('order-1'),
  value: Buffer.from('{}'),
  headers: [
    ['traceparent', Buffer.from('00-abc-def-01')],
    ['dlq-reason', Buffer.from('first')],
    ['redriven-from', Buffer.from('elsewhere.dlq/0/1')],
    ['dlq-reason', Buffer.from('gave up')],
    ['dlq-group', null],
    ['dlq-topic', Buffer.from('orders')],
  ],
  redrive: null,
});

test('when a header repeats, then the last value counts, and a missing one is null', () => {
  assert.equal(letter.reason, 'gave up');
  assert.equal(letter.origin, 'orders');
  assert.equal(letter.group, null);
  assert.equal(letter.header('absent'), null);
});

test('when a redrive sends the event, then the dlq headers go and redriven-from names the dead letter', () => {
  assert.deepEqual(letter.redriveHeaders().map(([name, value]) => [name, value.toString()]), [
    ['traceparent', '00-abc-def-01'],
    ['redriven-from', 'orders.dlq/1/0'],
  ]);
});
