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
