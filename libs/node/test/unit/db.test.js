import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  markProcessed, migrate, openDatabase, PROCESSED_EVENTS_TABLE, wasProcessed,
} from '../../src/db.js';

function withFileDatabase(run) {
  const dir = mkdtempSync(join(tmpdir(), 'polyshop-db-'));
  const db = openDatabase(join(dir, 'nested', 'service.db'));
  try {
    run(db);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('when a database file is opened, then it uses WAL, NORMAL sync, foreign keys and a busy timeout', () => {
  withFileDatabase((db) => {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 1); // NORMAL, as the Python library
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.ok(db.pragma('busy_timeout', { simple: true }) >= 1000);
  });
});

test('when migrations run twice, then each statement ran once', () => {
  const db = openDatabase(':memory:');
  const statements = [
    'CREATE TABLE thing (id INTEGER PRIMARY KEY)',
    'ALTER TABLE thing ADD COLUMN name TEXT',
  ];
  migrate(db, statements);
  migrate(db, statements);
  assert.equal(db.pragma('user_version', { simple: true }), 2);
  migrate(db, [...statements, 'CREATE TABLE other (id INTEGER)']);
  assert.equal(db.pragma('user_version', { simple: true }), 3);
});

test('when a database was made by IF NOT EXISTS statements, then they run again as migration 1 and later ones apply', () => {
  const db = openDatabase(':memory:');
  const first = 'CREATE TABLE IF NOT EXISTS thing (id INTEGER PRIMARY KEY)';
  db.exec(first);
  db.prepare('INSERT INTO thing (id) VALUES (7)').run();
  migrate(db, [first, 'ALTER TABLE thing ADD COLUMN name TEXT']);
  assert.equal(db.pragma('user_version', { simple: true }), 2);
  assert.deepEqual(db.prepare('SELECT id, name FROM thing').all(), [{ id: 7, name: null }]);
});

test('when a database already ran migrations elsewhere, then only the later ones run', () => {
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE n (x INTEGER)');
  db.pragma('user_version = 1');
  migrate(db, ['CREATE TABLE n (x INTEGER)', 'INSERT INTO n VALUES (1)']);
  migrate(db, ['CREATE TABLE n (x INTEGER)', 'INSERT INTO n VALUES (1)']);
  assert.deepEqual(db.prepare('SELECT x FROM n').all(), [{ x: 1 }]);
});

test('when a migration fails, then none of that run is kept', () => {
  const db = openDatabase(':memory:');
  assert.throws(() => migrate(db, ['CREATE TABLE a (id INTEGER)', 'NOT SQL']));
  assert.equal(db.pragma('user_version', { simple: true }), 0);
  assert.equal(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'a'").get().n, 0);
});

test('when an event is marked processed twice, then the second time reports a redelivery', () => {
  const db = openDatabase(':memory:');
  db.exec(PROCESSED_EVENTS_TABLE);
  const event = { id: 'e-1', type: 'order.created' };
  assert.equal(wasProcessed(db, 'e-1'), false);
  assert.equal(markProcessed(db, event), true);
  assert.equal(markProcessed(db, event), false);
  assert.equal(wasProcessed(db, 'e-1'), true);
});

test('when the same SQL is prepared twice, then the statement compiled the first time is handed back', () => {
  const db = openDatabase(':memory:');
  try {
    db.exec('CREATE TABLE thing (id INTEGER PRIMARY KEY, name TEXT)');
    const insert = db.prepare('INSERT INTO thing (name) VALUES (?)');
    assert.equal(db.prepare('INSERT INTO thing (name) VALUES (?)'), insert);
    assert.notEqual(db.prepare('SELECT name FROM thing'), insert);
    insert.run('a');
    db.prepare('INSERT INTO thing (name) VALUES (?)').run('b');
    assert.deepEqual(db.prepare('SELECT name FROM thing ORDER BY id').all(), [{ name: 'a' }, { name: 'b' }]);
  } finally {
    db.close();
  }
});
