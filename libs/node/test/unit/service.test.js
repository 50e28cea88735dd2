import { test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import {
  createLogger, createServiceApp, openDatabase, startWebServer, stopWebServer,
} from '../../src/index.js';
import { eventually } from '../support/eventually.js';
import { registered, START_MS, startService } from '../support/service-process.js';

const logger = createLogger({ service: 'service-test', level: 'silent' });

test('when a service app is asked, then its routes, health and problems answer', async () => {
  const db = openDatabase(':memory:');
  const hello = express.Router().get('/hello', (req, res) => res.json({ hello: 'world' }));
  const app = createServiceApp({
    logger, db, readiness: { registered: () => false }, routers: [hello],
  });
  const server = await startWebServer(app);
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    assert.deepEqual(await (await fetch(`${url}/hello`)).json(), { hello: 'world' });
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual((await ready.json()).checks, { database: true, registered: false });
    const missing = await fetch(`${url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type'), /^application\/problem\+json/);
  } finally {
    await stopWebServer(server);
    db.close();
  }
});

test('when a service runs, then it is ready once registered and consuming', async (t) => {
  const { child, registry, lines, exited } = await startService(t);
  await registered(lines);
  const { port } = lines().find((line) => line.message === 'listening');
  await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
    timeoutMs: START_MS, message: 'ready',
  });
  assert.deepEqual(registry.instances('demo').map((instance) => instance.port), [port]);
  child.kill('SIGTERM');
  assert.equal((await exited).code, 0);
});

test('when SIGTERM arrives, then it deregisters first and stops the consumer before its helpers', async (t) => {
  const { child, registry, lines, events, exited } = await startService(t);
  await registered(lines);
  child.kill('SIGTERM');
  assert.equal((await exited).code, 0);
  assert.deepEqual(events(), [
    'relay started', 'discovery started', 'consumer started',
    'not registered', 'consumer stopped', 'discovery stopped', 'relay stopped',
  ]);
  assert.deepEqual(registry.instances('demo'), []);
});

test('when the configuration is invalid, then it exits 1 naming the problem, without a stack', async (t) => {
  const { exited } = await startService(t, { PORT: 'eighty' });
  const { code, stderr } = await exited;
  assert.equal(code, 1);
  assert.match(stderr, /^demo could not start: invalid configuration:\n {2}- PORT: "eighty"/);
  assert.doesNotMatch(stderr, /at .*\.js:\d+/);
});

test('when a service starts in development mode, then its first line says so, loudly, once', async (t) => {
  const { child, lines, exited } = await startService(t, { POLYSHOP_MODE: 'development', REGISTRY_TOKEN: 'dev' });
  await registered(lines);
  const [first, ...rest] = lines();
  assert.equal(first.level, 'warn');
  assert.match(first.message, /^DEVELOPMENT MODE/);
  assert.equal(rest.filter((line) => /DEVELOPMENT MODE/.test(line.message)).length, 0);
  child.kill('SIGTERM');
  assert.equal((await exited).code, 0);
});

test('when a service starts in production mode, then no line speaks of development', async (t) => {
  const { child, lines, exited } = await startService(t);
  await registered(lines);
  assert.equal(lines().filter((line) => /DEVELOPMENT MODE/.test(line.message)).length, 0);
  child.kill('SIGTERM');
  assert.equal((await exited).code, 0);
});

test('when the registry token is missing, then it exits 1 naming REGISTRY_TOKEN and its _FILE', async (t) => {
  const { exited } = await startService(t, { REGISTRY_TOKEN: '' });
  const { code, stderr } = await exited;
  assert.equal(code, 1);
  assert.match(stderr, /- REGISTRY_TOKEN: required \(set REGISTRY_TOKEN or REGISTRY_TOKEN_FILE\)/);
});
