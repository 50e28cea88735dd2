import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/logger.js';
import { RegistryApi } from '../../src/registry/api.js';
import { createRegistration } from '../../src/registry/registration.js';
import { eventually } from '../support/eventually.js';
import { FakeRegistry } from '../support/fake-registry.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let registry;
let registration;

beforeEach(async () => {
  // A lease of 0.3 s means a heartbeat every 100 ms: the loop runs fast.
  registry = new FakeRegistry({ leaseTtlSeconds: 0.3 });
  await registry.start();
  const api = new RegistryApi({ baseUrl: registry.url, token: 't0ken', timeoutMs: 500 });
  registration = createRegistration({
    api, service: 'inventory', host: '127.0.0.1', port: 3001, logger, metadata: { zone: 'a' },
  });
});

afterEach(async () => {
  await registration.close();
  await registry.stop().catch(() => undefined);
});

test('when started, then it registers under the default id and reports it', async () => {
  registration.start();
  assert.equal(await registration.waitRegistered(2000), true);
  assert.equal(registration.isRegistered, true);
  const [instance] = registry.instances('inventory');
  assert.equal(instance.instance_id, 'inventory-127.0.0.1-3001');
  assert.deepEqual(
    { host: instance.host, port: instance.port, metadata: instance.metadata },
    { host: '127.0.0.1', port: 3001, metadata: { zone: 'a' } },
  );
});

test('when the registry fails at first, then registration retries until it answers', async () => {
  registry.failNext = 2;
  registration.start();
  assert.equal(await registration.waitRegistered(3000), true);
  assert.equal(registry.callsTo('POST').length, 3);
});

test('when it writes to the registry, then it sends the bearer token', async () => {
  registration.start();
  await registration.waitRegistered(2000);
  assert.equal(registry.callsTo('POST')[0].authorization, 'Bearer t0ken');
});

test('when registered, then it heartbeats every third of the lease', async () => {
  registration.start();
  await eventually(() => registry.callsTo('PUT', '/heartbeat').length >= 5);
  const beats = registry.callsTo('PUT', '/heartbeat').map((call) => call.at);
  const gaps = beats.slice(1).map((at, i) => at - beats[i]);
  // 100 ms apart; generous bounds keep a busy machine from failing the test.
  assert.ok(gaps.every((gap) => gap >= 70 && gap <= 400), `gaps: ${gaps}`);
});

test('when a heartbeat meets a 404, then it registers again at once', async () => {
  registration.start();
  await registration.waitRegistered(2000);
  registry.forget('inventory', registration.instanceId);
  // The registry knows the instance a moment before the client has read its answer.
  await eventually(() => registry.instances('inventory').length === 1 && registration.isRegistered);
  assert.equal(registry.callsTo('POST').length, 2);
});

test('when the registry restarts with empty memory, then one interval later it knows us again', async () => {
  registration.start();
  await registration.waitRegistered(2000);
  await registry.stop();
  registry.calls.length = 0;
  await registry.start();
  await eventually(() => registry.instances('inventory').length === 1, { timeoutMs: 1000 });
  // The first call after the restart is a heartbeat (404), the next the new registration.
  assert.deepEqual(registry.calls.slice(0, 2).map((call) => call.method), ['PUT', 'POST']);
});

test('when closed, then it stops heartbeating and deregisters', async () => {
  registration.start();
  await registration.waitRegistered(2000);
  await registration.close();
  assert.equal(registration.isRegistered, false);
  assert.deepEqual(registry.instances('inventory'), []);
  assert.equal(registry.callsTo('DELETE').length, 1);
  const callsAfterClose = registry.calls.length;
  // Proving that nothing happens needs a wait: two and a half heartbeat intervals.
  await sleep(250);
  assert.equal(registry.calls.length, callsAfterClose);
});

test('when the registry is down at close, then close still returns', async () => {
  registration.start();
  await registration.waitRegistered(2000);
  await registry.stop();
  await registration.close();
  assert.equal(registration.isRegistered, false);
});
