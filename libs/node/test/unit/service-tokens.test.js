/**
 * The client-credentials token source against a real issuer on port 0:
 * what it asks for, what the callee makes of the token, how long a token is
 * kept, and what a failure looks like.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { isTransient } from '../../src/errors.js';
import { createTokenVerifier } from '../../src/identity.js';
import { createLogger } from '../../src/logger.js';
import { createServiceTokens, ServiceTokenError } from '../../src/service-tokens.js';
import { startTestIssuer } from '../../src/testing.js';

const logger = createLogger({ service: 'test', level: 'silent' });
// A secret with characters that Basic credentials must encode (RFC 6749 section 2.3.1).
const AWKWARD_SECRET = 'a+b/c=d:e%f g&h-0123456789abcdefghij';
let issuer;
let clock;

before(async () => {
  issuer = await startTestIssuer({
    clients: {
      notifications: { audiences: ['orders', 'inventory'] },
      storefront: { secret: AWKWARD_SECRET, audiences: ['inventory'] },
    },
  });
});

after(() => issuer.stop());

beforeEach(() => {
  clock = { now: Date.now() };
});

function tokensOf(clientId, { secret = issuer.clientSecret(clientId), url = issuer.url } = {}) {
  return createServiceTokens({
    issuer: url, clientId, clientSecret: secret, logger, now: () => clock.now,
  });
}

const asked = () => issuer.requests.token;

test('when a token is asked for, then the callee verifies it as coming from the caller', async () => {
  const token = await tokensOf('notifications').tokenFor('orders');
  const orders = createTokenVerifier({ issuer: issuer.url, service: 'orders', logger });
  assert.deepEqual(await orders.verify(token), { name: 'service:notifications', isService: true });
  const inventory = createTokenVerifier({ issuer: issuer.url, service: 'inventory', logger });
  await assert.rejects(inventory.verify(token), { status: 401 });
});

test('when the client secret has characters Basic must encode, then the issuer still knows it', async () => {
  const token = await tokensOf('storefront').tokenFor('inventory');
  const inventory = createTokenVerifier({ issuer: issuer.url, service: 'inventory', logger });
  assert.equal((await inventory.verify(token)).name, 'service:storefront');
});

test('when a token is asked for again before it is due, then the kept one comes back', async () => {
  const tokens = tokensOf('notifications');
  const first = await tokens.tokenFor('orders');
  const before = asked();
  // 120 s tokens are renewed 30 s before they expire.
  clock.now += 89_000;
  assert.equal(await tokens.tokenFor('orders'), first);
  assert.equal(asked(), before);
});

test('when a token is 30 s from expiry, then a new one is asked for', async () => {
  const tokens = tokensOf('notifications');
  await tokens.tokenFor('orders');
  const before = asked();
  clock.now += 91_000;
  const renewed = await tokens.tokenFor('orders');
  assert.equal(asked(), before + 1);
  assert.equal(await tokens.tokenFor('orders'), renewed, 'the new one is kept in turn');
  assert.equal(asked(), before + 1);
});

test('when many callers ask at once, then one request serves them all', async () => {
  const tokens = tokensOf('notifications');
  const before = asked();
  const all = await Promise.all(Array.from({ length: 5 }, () => tokens.tokenFor('orders')));
  assert.equal(new Set(all).size, 1);
  assert.equal(asked(), before + 1);
});

test('when two callees are called, then each has its own token', async () => {
  const tokens = tokensOf('notifications');
  const before = asked();
  const [orders, inventory] = await Promise.all([tokens.tokenFor('orders'), tokens.tokenFor('inventory')]);
  assert.notEqual(orders, inventory);
  assert.equal(asked(), before + 2);
});

test('when the secret is wrong, then a clear error says so, and nothing is kept', async () => {
  const tokens = tokensOf('notifications', { secret: 'x'.repeat(32) });
  const before = asked();
  for (let attempt = 0; attempt < 2; attempt += 1) {
    await assert.rejects(tokens.tokenFor('orders'), (error) => {
      assert.ok(error instanceof ServiceTokenError);
      assert.equal(error.status, 401);
      assert.equal(isTransient(error), false);
      assert.match(error.message, /issuer refused a token for calling orders: 401/);
      return true;
    });
  }
  assert.equal(asked(), before + 2);
});

test('when the caller may not call that service, then the error is the issuer\'s 403', async () => {
  await assert.rejects(tokensOf('storefront').tokenFor('orders'), { name: 'ServiceTokenError', status: 403 });
});

test('when the issuer is down, then the error is transient and the next call asks again', async () => {
  const tokens = tokensOf('notifications');
  issuer.available = false;
  try {
    await assert.rejects(tokens.tokenFor('orders'), (error) => isTransient(error));
  } finally {
    issuer.available = true;
  }
  assert.match(await tokens.tokenFor('orders'), /^[\w-]+\.[\w-]+\.[\w-]+$/);
});

test('when the issuer cannot be reached, then the error is transient and names the callee', async () => {
  const gone = await startTestIssuer({ clients: { notifications: { audiences: ['orders'] } } });
  const secret = gone.clientSecret('notifications');
  await gone.stop();
  const tokens = tokensOf('notifications', { secret, url: gone.url });
  await assert.rejects(tokens.tokenFor('orders'), (error) => {
    assert.ok(error instanceof ServiceTokenError);
    assert.equal(isTransient(error), true);
    assert.match(error.message, /^no token for calling orders: /);
    return true;
  });
});

test('when no client secret is configured, then the token source is not made', () => {
  assert.throws(() => tokensOf('notifications', { secret: '' }), TypeError);
});
