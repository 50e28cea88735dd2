/**
 * The storefront's own call, the stock read, with the token the gateway
 * issues it: a test issuer on port 0 gives the token, and a stand-in
 * inventory on port 0 checks it with the shared verifier, as inventory does.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import express from 'express';
import {
  createTokenVerifier, problemHandler, requirePrincipal, ServiceTokenError, startWebServer,
  stopWebServer,
} from '@polyshop/common';
import { startTestIssuer } from '@polyshop/common/testing';
import { createBackends } from '../src/backends.js';
import { loadConfig } from '../src/config.js';
import { logger, OPERATOR_TOKEN, REQUIRED } from './support/storefront.js';

let issuer;
let inventory;
let discovery;
let backends;
const callers = [];

before(async () => {
  issuer = await startTestIssuer({ clients: { storefront: { audiences: ['inventory'] } } });
  const verifier = createTokenVerifier({ issuer: issuer.url, service: 'inventory', logger });
  const app = express();
  app.get('/stock', requirePrincipal(verifier), (req, res) => {
    callers.push(req.principal);
    res.json([{ sku: 'TEA', available: 3, reserved: 0 }]);
  });
  app.use(problemHandler({ logger }));
  inventory = await startWebServer(app);
  const config = loadConfig({
    ...REQUIRED, OPERATOR_TOKEN, AUTH_ISSUER: issuer.url, AUTH_CLIENT_SECRET: issuer.clientSecret('storefront'),
  });
  const instance = { instance_id: 'inventory-1', host: '127.0.0.1', port: inventory.address().port };
  discovery = { instances: (service) => (service === 'inventory' ? [instance] : []) };
  backends = createBackends({ discovery, config, logger });
});

after(async () => {
  await stopWebServer(inventory);
  await issuer.stop();
});

beforeEach(() => {
  callers.length = 0;
});

test('when the stock is read, then inventory sees the storefront\'s service token', async () => {
  assert.deepEqual(await backends.stock(), [{ sku: 'TEA', available: 3, reserved: 0 }]);
  assert.deepEqual(callers, [{ name: 'service:storefront', isService: true }]);
});

test('when the stock is read again and again, then the token is asked for once', async () => {
  await backends.stock();
  const asked = issuer.requests.token;
  await Promise.all([backends.stock(), backends.stock(), backends.stock()]);
  assert.equal(issuer.requests.token, asked);
  assert.equal(callers.length, 4);
});

test('when the gateway gives no token, then the stock read fails and inventory is not called', async () => {
  const config = loadConfig({
    ...REQUIRED, OPERATOR_TOKEN, AUTH_ISSUER: issuer.url, AUTH_CLIENT_SECRET: 'not-the-storefront-secret-0123456789',
  });
  const refused = createBackends({ discovery, config, logger });
  await assert.rejects(refused.stock(), (error) => error instanceof ServiceTokenError && error.status === 401);
  assert.deepEqual(callers, []);
});
