import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createLogger } from '../../src/logger.js';
import { RegistryApi } from '../../src/registry/api.js';
import { createDiscovery, played } from '../../src/registry/discovery.js';
import { eventually } from '../support/eventually.js';
import { FakeRegistry } from '../support/fake-registry.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let registry;
let discovery;

function catalogInstance(port) {
  return { instance_id: `catalog-127.0.0.1-${port}`, host: '127.0.0.1', port };
}

beforeEach(async () => {
  registry = new FakeRegistry();
  await registry.start();
  registry.add('catalog', catalogInstance(5001));
  const api = new RegistryApi({ baseUrl: registry.url, timeoutMs: 500 });
  discovery = createDiscovery({ api, waitSeconds: 5, logger });
});

afterEach(async () => {
  await discovery.close();
  await registry.stop().catch(() => undefined);
});

test('when started, then the cache fills from the registry', async () => {
  discovery.start();
  assert.equal(await discovery.waitReady(2000), true);
  assert.deepEqual(discovery.instances('catalog').map((instance) => instance.port), [5001]);
  assert.deepEqual(discovery.instances('unknown'), []);
  assert.equal(registry.calls[0].query, '', 'the first request is not a long poll');
});

test('when the registry changes, then the long poll brings the change', async () => {
  discovery.start();
  await discovery.waitReady(2000);
  const changed = once(discovery, 'change');
  registry.add('catalog', catalogInstance(5011));
  await changed;
  assert.deepEqual(discovery.instances('catalog').map((instance) => instance.port), [5001, 5011]);
  const longPoll = registry.callsTo('GET').at(-1);
  assert.match(longPoll.query, /^\?since=\d+&wait=5$/);
  assert.equal(registry.callsTo('GET').filter((call) => call.query === '').length, 1,
    'after the first, every read asks only for what changed');
});

test('when an instance leaves, then the change removes it and a service with none left', async () => {
  registry.add('orders', { instance_id: 'orders-127.0.0.1-5002', host: '127.0.0.1', port: 5002 });
  discovery.start();
  await discovery.waitReady(2000);
  const changed = once(discovery, 'change');
  registry.forget('orders', 'orders-127.0.0.1-5002');
  await changed;
  assert.deepEqual(Object.keys(discovery.services()), ['catalog']);
  assert.deepEqual(discovery.instances('orders'), []);
});

test('when a change is played onto a view, then the old view stays as it was', () => {
  const view = { catalog: [catalogInstance(5011)], orders: [{ instance_id: 'orders-1' }] };
  const after = played(view, [
    { service: 'catalog', instance_id: 'catalog-127.0.0.1-5001', instance: catalogInstance(5001) },
    { service: 'orders', instance_id: 'orders-1', instance: null },
    { service: 'catalog', instance_id: 'catalog-127.0.0.1-5011', instance: { ...catalogInstance(5011), port: 6011 } },
  ]);
  assert.deepEqual(after, { catalog: [catalogInstance(5001), { ...catalogInstance(5011), port: 6011 }] });
  assert.deepEqual(view, { catalog: [catalogInstance(5011)], orders: [{ instance_id: 'orders-1' }] });
});

test('when the registry goes away, then the cache keeps answering', async () => {
  discovery.start();
  await discovery.waitReady(2000);
  const unavailable = once(discovery, 'unavailable');
  await registry.stop();
  await unavailable;
  assert.deepEqual(discovery.instances('catalog').map((instance) => instance.port), [5001]);
});

test('when the registry comes back, then the cache follows it again', async () => {
  discovery.start();
  await discovery.waitReady(2000);
  await registry.stop();
  await registry.start();
  registry.add('catalog', catalogInstance(5021));
  await eventually(() => discovery.instances('catalog')[0]?.port === 5021, { timeoutMs: 4000 });
});

test('when the registry comes back empty, then known instances stay until the grace ends', async () => {
  let now = 0;
  const api = new RegistryApi({ baseUrl: registry.url, timeoutMs: 500 });
  const healing = createDiscovery({
    api, waitSeconds: 5, rejoinGraceSeconds: 15, now: () => now, logger,
  });
  try {
    healing.start();
    await healing.waitReady(2000);
    await registry.stop();
    await once(healing, 'unavailable');
    await registry.start(); // a restart: empty memory
    registry.add('orders', { instance_id: 'orders-127.0.0.1-5002', host: '127.0.0.1', port: 5002 });
    await eventually(() => healing.instances('orders').length === 1, { timeoutMs: 4000 });
    assert.deepEqual(healing.instances('catalog').map((instance) => instance.port), [5001]);

    now += 15000; // the grace is over: the registry's view alone counts
    registry.add('orders', { instance_id: 'orders-127.0.0.1-5012', host: '127.0.0.1', port: 5012 });
    await eventually(() => healing.instances('orders').length === 2, { timeoutMs: 4000 });
    assert.deepEqual(healing.instances('catalog'), []);
  } finally {
    await healing.close();
  }
});

test('when the registry never answers, then waitReady gives up with false', async () => {
  await registry.stop();
  discovery.start();
  assert.equal(await discovery.waitReady(100), false);
  assert.equal(discovery.isReady, false);
});

test('when closed, then the long poll in flight is aborted at once', async () => {
  discovery.start();
  await discovery.waitReady(2000);
  const message = 'a long poll is waiting';
  await eventually(() => registry.callsTo('GET').length >= 2, { message });
  const startedAt = Date.now();
  await discovery.close();
  assert.ok(Date.now() - startedAt < 1000);
});
