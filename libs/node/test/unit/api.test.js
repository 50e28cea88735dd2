import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryApi, RegistryError } from '../../src/registry/api.js';
import { FakeRegistry } from '../support/fake-registry.js';

let registry;
let api;

before(async () => {
  registry = new FakeRegistry({ leaseTtlSeconds: 15 });
  await registry.start();
  api = new RegistryApi({ baseUrl: `${registry.url}/`, token: 't0ken' });
});

after(() => registry.stop());

test('when registering, then the lease comes back', async () => {
  const body = { instance_id: 'catalog-a', host: '127.0.0.1', port: 5001 };
  assert.deepEqual(await api.register('catalog', body), {
    instance_id: 'catalog-a',
    lease_ttl_seconds: 15,
  });
});

test('when listing, then the services and the index come back', async () => {
  const { index, services } = await api.listServices();
  assert.equal(typeof index, 'number');
  assert.deepEqual(Object.keys(services), ['catalog']);
});

test('when the registry answers with a problem, then a RegistryError carries status and detail', async () => {
  const error = await api.heartbeat('catalog', 'nobody').catch((caught) => caught);
  assert.ok(error instanceof RegistryError);
  assert.equal(error.status, 404);
  assert.match(error.message, /unknown instance/);
});

test('when deregistering an unknown instance, then it is not an error', async () => {
  assert.equal(await api.deregister('catalog', 'nobody'), false);
  assert.equal(await api.deregister('catalog', 'catalog-a'), true);
});

test('when nothing listens, then the network error itself is thrown', async () => {
  const nowhere = new RegistryApi({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 1000 });
  const error = await nowhere.listServices().catch((caught) => caught);
  assert.ok(!(error instanceof RegistryError));
  assert.ok(error instanceof Error);
});

// Several registries (REGISTRY_URL with commas), as in Python
// (libs/python/tests/test_registry_api.py).
test('when a registry does not answer, then the next answers and is kept', async () => {
  const next = new FakeRegistry();
  await next.start();
  try {
    const failover = new RegistryApi({ baseUrl: `http://127.0.0.1:9,${next.url}`, timeoutMs: 1000 });
    await failover.listServices();
    assert.equal(failover.baseUrl, next.url);
    await failover.listServices();
    assert.equal(next.callsTo('GET').length, 2);
  } finally {
    await next.stop();
  }
});

test('when a registry fails, then the next is asked', async () => {
  const [first, second] = [new FakeRegistry(), new FakeRegistry()];
  await Promise.all([first.start(), second.start()]);
  try {
    first.failNext = 1;
    const failover = new RegistryApi({ baseUrl: `${first.url},${second.url}` });
    await failover.listServices();
    assert.deepEqual([first.calls.length, second.calls.length, failover.baseUrl], [1, 1, second.url]);
  } finally {
    await Promise.all([first.stop(), second.stop()]);
  }
});

test('when a registry refuses, then that is the answer and no other is asked', async () => {
  const second = new FakeRegistry();
  await second.start();
  try {
    const failover = new RegistryApi({ baseUrl: `${registry.url},${second.url}` });
    const error = await failover.heartbeat('catalog', 'nobody').catch((caught) => caught);
    assert.equal(error.status, 404);
    assert.equal(second.calls.length, 0);
  } finally {
    await second.stop();
  }
});

test('when every registry is down, then the network error itself is thrown', async () => {
  const nowhere = new RegistryApi({ baseUrl: 'http://127.0.0.1:9,http://127.0.0.1:7', timeoutMs: 1000 });
  const error = await nowhere.listServices().catch((caught) => caught);
  assert.ok(!(error instanceof RegistryError));
  assert.ok(error instanceof Error);
});

test('when a long poll\'s registry does not answer, then no other is asked: the index is its own', async () => {
  const next = new FakeRegistry();
  await next.start();
  try {
    const failover = new RegistryApi({ baseUrl: `http://127.0.0.1:9,${next.url}`, timeoutMs: 1000 });
    const error = await failover.changesSince({ index: 7, waitSeconds: 1 }).catch((caught) => caught);
    assert.ok(error instanceof Error && !(error instanceof RegistryError));
    assert.equal(next.calls.length, 0);
  } finally {
    await next.stop();
  }
});
