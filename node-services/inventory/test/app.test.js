/**
 * Inventory's HTTP API, served by createApp on port 0 with an in-memory
 * database; the tokens come from a test issuer on port 0, whose keys
 * inventory fetches over HTTP as it does the gateway's.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  createLogger, loadContracts, startWebServer, stopWebServer,
} from '@polyshop/common';
import {
  expressOperations, openapiOperations, randomSecret, startTestIssuer, strangerKey,
} from '@polyshop/common/testing';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openInventoryDatabase } from '../src/database.js';

const logger = createLogger({ service: 'inventory-test', level: 'silent' });
const contracts = loadContracts();
const readiness = { registered: true };
let issuer;
let app;
let server;
let baseUrl;
let alice;

before(async () => {
  issuer = await startTestIssuer();
  const config = loadConfig({ REGISTRY_TOKEN: randomSecret(), AUTH_ISSUER: issuer.url, DATA_DIR: '/nonexistent' });
  const db = openInventoryDatabase(':memory:', { contractsDir: contracts.dir });
  app = createApp({ config, logger, db, readiness: { registered: () => readiness.registered } });
  server = await startWebServer(app);
  baseUrl = `http://127.0.0.1:${server.address().port}`;
  alice = { authorization: `Bearer ${await issuer.userToken('alice')}` };
});

after(async () => {
  await stopWebServer(server);
  await issuer.stop();
});

const get = (path, headers = {}) => fetch(`${baseUrl}${path}`, { headers });

test('when a user asks for a known sku, then its stock is returned', async () => {
  const response = await get('/stock/TEA-EARL-GREY', alice);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { sku: 'TEA-EARL-GREY', available: 120, reserved: 0 });
});

test('when a service asks with a token for inventory, then it is answered too', async () => {
  const token = await issuer.serviceToken('orders', 'inventory');
  const response = await get('/stock/TEA-EARL-GREY', { authorization: `Bearer ${token}` });
  assert.equal(response.status, 200);
});

test('when a service asks with a token for another service, then the answer is 401', async () => {
  const token = await issuer.serviceToken('orders', 'payments');
  assert.equal((await get('/stock', { authorization: `Bearer ${token}` })).status, 401);
});

test('when the sku is unknown, then a 404 problem answers', async () => {
  const response = await get('/stock/NO-SUCH-SKU', alice);
  assert.equal(response.status, 404);
  assert.match(response.headers.get('content-type'), /^application\/problem\+json/);
  assert.match((await response.json()).detail, /NO-SUCH-SKU/);
});

test('when the whole stock is listed, then every seeded sku is there, by sku', async () => {
  const response = await get('/stock', alice);
  const skus = (await response.json()).map((row) => row.sku);
  assert.equal(skus.length, 10);
  assert.deepEqual(skus, [...skus].sort());
});

test('when no token is sent, then the stock routes answer 401', async () => {
  for (const path of ['/stock', '/stock/TEA-EARL-GREY']) {
    const response = await get(path);
    assert.equal(response.status, 401, path);
    assert.match(response.headers.get('www-authenticate'), /^Bearer/);
  }
});

test('when the token was signed with another key, then the answer is 401', async () => {
  const forged = await issuer.sign({ sub: 'alice', aud: 'polyshop' }, { key: await strangerKey() });
  assert.equal((await get('/stock', { authorization: `Bearer ${forged}` })).status, 401);
});

test('when a client sends only X-User, then it is not anyone', async () => {
  assert.equal((await get('/stock', { 'x-user': 'alice' })).status, 401);
});

test('when not registered, then /readyz is 503 while /livez is 200', async () => {
  readiness.registered = false;
  assert.equal((await get('/readyz')).status, 503);
  assert.equal((await get('/livez')).status, 200);
  readiness.registered = true;
  assert.equal((await get('/readyz')).status, 200);
});

test('when the routes are compared with contracts/openapi/inventory.yaml, then they match', () => {
  const file = join(contracts.dir, 'openapi', 'inventory.yaml');
  assert.deepEqual(expressOperations(app), openapiOperations(file));
});
