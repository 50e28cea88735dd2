import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().trim().split('\n').map((line) => JSON.parse(line)));
      done();
    },
  });
  return { lines, destination };
}

test('when a line carries a token or an authorization header, then both are redacted', () => {
  const { lines, destination } = capture();
  const logger = createLogger({ service: 'inventory', destination });
  logger.info(
    {
      token: 's3cret',
      req: { headers: { authorization: 'Bearer s3cret' } },
      user: { password: 'pw' },
    },
    'calling the registry',
  );
  const text = JSON.stringify(lines);
  assert.ok(!text.includes('s3cret') && !text.includes('"pw"'), text);
  assert.equal(lines[0].token, '[redacted]');
  assert.equal(lines[0].req.headers.authorization, '[redacted]');
  assert.equal(lines[0].user.password, '[redacted]');
});

test('when logging, then each line is JSON with the service, a level word and the message', () => {
  const { lines, destination } = capture();
  createLogger({ service: 'inventory', destination }).warn({ sku: 'A-1' }, 'low stock');
  assert.equal(lines[0].service, 'inventory');
  assert.equal(lines[0].level, 'warn');
  assert.equal(lines[0].message, 'low stock');
  assert.equal(lines[0].sku, 'A-1');
  assert.ok(!Number.isNaN(Date.parse(lines[0].time)));
});

test('when the level is above a call, then nothing is written', () => {
  const { lines, destination } = capture();
  createLogger({ service: 'inventory', level: 'warn', destination }).info('chatty');
  assert.deepEqual(lines, []);
});
