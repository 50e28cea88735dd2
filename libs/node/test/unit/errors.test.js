import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTransient, TransientError } from '../../src/errors.js';
import { ServiceUnavailable, UpstreamError } from '../../src/service-client.js';

test('when an error is a TransientError or a service outage, then it is transient', () => {
  assert.equal(isTransient(new TransientError('broker away')), true);
  assert.equal(isTransient(new ServiceUnavailable('orders', 'no live instance')), true);
});

test('when an upstream answered 5xx or 429, then it is transient; a 4xx is not', () => {
  assert.equal(isTransient(new UpstreamError('orders', 503, null)), true);
  assert.equal(isTransient(new UpstreamError('orders', 429, null)), true);
  assert.equal(isTransient(new UpstreamError('orders', 401, null)), false);
});

test('when SQLite is busy, then it is transient; a bug is not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyshop-busy-'));
  const file = join(dir, 'busy.db');
  const writer = new Database(file);
  const other = new Database(file, { timeout: 0 });
  try {
    writer.exec('CREATE TABLE t (x)');
    writer.exec('BEGIN IMMEDIATE');
    let busy;
    try {
      other.exec('BEGIN IMMEDIATE');
    } catch (error) {
      busy = error;
    }
    assert.equal(isTransient(busy), true, `${busy?.code}`);
    assert.equal(isTransient(new TypeError('x is undefined')), false);
  } finally {
    writer.close();
    other.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
