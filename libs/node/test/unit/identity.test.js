/**
 * Token verification against a real issuer on port 0 (the test issuer
 * serves metadata and keys over HTTP as the gateway does): every rule of
 * contracts/auth.json, each with a token that breaks it.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import { readAuthContract } from '../../src/events.js';
import { problemHandler, startWebServer, stopWebServer } from '../../src/http.js';
import { createTokenVerifier, requirePrincipal } from '../../src/identity.js';
import { createLogger } from '../../src/logger.js';
import { startTestIssuer, strangerKey } from '../../src/testing.js';

const auth = readAuthContract();
const SERVICE = 'inventory';
const logger = createLogger({ service: 'test', level: 'silent' });
let issuer;
let verifier;
let server;
let baseUrl;

before(async () => {
  issuer = await startTestIssuer();
  verifier = createTokenVerifier({ issuer: issuer.url, service: SERVICE, logger });
  const app = express();
  app.get('/whoami', requirePrincipal(verifier), (req, res) => res.json(req.principal));
  app.use(problemHandler({ logger }));
  server = await startWebServer(app);
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  await stopWebServer(server);
  await issuer.stop();
});

function whoami(authorization) {
  return fetch(`${baseUrl}/whoami`, { headers: authorization ? { authorization } : {} });
}

const now = () => Math.floor(Date.now() / 1000);
const refused = (token) => assert.rejects(verifier.verify(token), { status: 401 });

describe('tokens the gateway issues', () => {
  test('when a user token is valid, then the principal is the user', async () => {
    const principal = await verifier.verify(await issuer.userToken('alice'));
    assert.deepEqual(principal, { name: 'alice', isService: false });
  });

  test('when a service token is for this service, then the principal is the caller', async () => {
    const principal = await verifier.verify(await issuer.serviceToken('orders', SERVICE));
    assert.deepEqual(principal, { name: 'service:orders', isService: true });
  });

  test('when a token expired less than the leeway ago, then it is still accepted', async () => {
    const iat = now() - 60;
    const token = await issuer.sign({ sub: 'alice', aud: auth.user_audience, iat, exp: now() - 2 });
    assert.equal((await verifier.verify(token)).name, 'alice');
  });

  for (const [kind, claims, seconds] of [
    ['user', { sub: 'alice', aud: auth.user_audience }, auth.max_user_token_seconds],
    ['service', { sub: 'service:orders', aud: `service:${SERVICE}` }, auth.max_service_token_seconds],
  ]) {
    test(`when a ${kind} token lives exactly its cap (${seconds} s), then it is accepted`, async () => {
      await verifier.verify(await issuer.sign(claims, { lifetimeSeconds: seconds }));
    });

    test(`when a ${kind} token lives longer than ${seconds} s, then it is refused`, async () => {
      await refused(await issuer.sign(claims, { lifetimeSeconds: seconds + 1 }));
    });
  }
});

describe('tokens the gateway would not issue', () => {
  const user = { sub: 'alice', aud: auth.user_audience };
  const cases = {
    'signed with another key under the real kid': async () => issuer.sign(user, { key: await strangerKey() }),
    'signed with another key under its own kid': async () => (
      issuer.sign(user, { key: await strangerKey(), kid: 'forger' })
    ),
    'from another issuer': () => issuer.sign({ ...user, iss: 'http://evil.example' }),
    'a user token made out to this service': () => issuer.sign({ sub: 'alice', aud: `service:${SERVICE}` }),
    'a service token made out to users': () => issuer.sign({ sub: 'service:orders', aud: auth.user_audience }),
    'a service token for another service': () => issuer.serviceToken('orders', 'payments'),
    'for two audiences at once': () => issuer.sign({ sub: 'alice', aud: [auth.user_audience, `service:${SERVICE}`] }),
    'named just "service:"': () => issuer.sign({ sub: 'service:', aud: `service:${SERVICE}` }),
    'without exp': () => issuer.sign({ ...user, exp: undefined }),
    'without iat': () => issuer.sign({ ...user, iat: undefined }),
    'without sub': () => issuer.sign({ aud: auth.user_audience }),
    'without aud': () => issuer.sign({ sub: 'alice' }),
    'expired a minute ago': () => issuer.sign({ ...user, iat: now() - 120, exp: now() - 60 }),
    'issued in the future': () => issuer.sign({ ...user, iat: now() + 600 }),
    'with alg none': () => issuer.sign(user, { alg: 'none' }),
    'with alg HS256': () => issuer.sign(user, { alg: 'HS256', key: new TextEncoder().encode('s'.repeat(32)) }),
    'that is not a JWT': async () => 'not-a-jwt',
  };
  for (const [what, make] of Object.entries(cases)) {
    test(`when a token is ${what}, then it is refused`, async () => refused(await make()));
  }

  test('when a token says alg none or HS256, then it is refused before any key is fetched', async () => {
    const fresh = createTokenVerifier({ issuer: issuer.url, service: SERVICE, logger });
    const before = { ...issuer.requests };
    for (const alg of ['none', 'HS256']) {
      const token = await issuer.sign({ sub: 'alice', aud: auth.user_audience }, {
        alg, key: new TextEncoder().encode('s'.repeat(32)),
      });
      await assert.rejects(fresh.verify(token), { status: 401 });
    }
    assert.deepEqual(issuer.requests, before);
  });
});

describe('the issuer\'s keys', () => {
  test('when the gateway rotates its key, then one fetch of the key set learns the new kid', async () => {
    const rotating = await startTestIssuer();
    try {
      const fresh = createTokenVerifier({ issuer: rotating.url, service: SERVICE, logger, cooldownMs: 0 });
      await fresh.verify(await rotating.userToken('alice'));
      assert.deepEqual(rotating.requests, { metadata: 1, jwks: 1, token: 0 });

      await rotating.rotateKey();
      const token = await rotating.userToken('bob');
      assert.equal((await fresh.verify(token)).name, 'bob');
      await fresh.verify(token);
      assert.deepEqual(rotating.requests, { metadata: 1, jwks: 2, token: 0 });
    } finally {
      await rotating.stop();
    }
  });

  test('when unknown kids come within the cooldown, then the key set is not fetched again', async () => {
    const fresh = createTokenVerifier({ issuer: issuer.url, service: SERVICE, logger });
    await fresh.verify(await issuer.userToken('alice'));
    const fetched = issuer.requests.jwks;
    const key = await strangerKey();
    for (const kid of ['one', 'two', 'three']) {
      const token = await issuer.sign({ sub: 'alice', aud: auth.user_audience }, { key, kid });
      await assert.rejects(fresh.verify(token), { status: 401 });
    }
    assert.equal(issuer.requests.jwks, fetched);
  });

  test('when the issuer cannot be reached, then the answer is 503 with Retry-After', async () => {
    const gone = await startTestIssuer();
    const token = await gone.userToken('alice');
    await gone.stop();
    const fresh = createTokenVerifier({ issuer: gone.url, service: SERVICE, logger });
    const error = await fresh.verify(token).catch((caught) => caught);
    assert.equal(error.status, 503);
    assert.equal(error.headers['Retry-After'], '5');
  });

  test('when the issuer answers 503 at first, then a later token fetches again and passes', async () => {
    const fresh = createTokenVerifier({ issuer: issuer.url, service: SERVICE, logger });
    const token = await issuer.userToken('alice');
    issuer.available = false;
    try {
      await assert.rejects(fresh.verify(token), { status: 503 });
    } finally {
      issuer.available = true;
    }
    assert.equal((await fresh.verify(token)).name, 'alice');
  });

  test('when the metadata names another issuer, then no key is trusted from it', async () => {
    const stranger = await metadataServer({ issuer: 'http://elsewhere.example' });
    try {
      const misled = createTokenVerifier({ issuer: stranger.url, service: SERVICE, logger });
      await assert.rejects(misled.verify(await issuer.userToken('alice')), { status: 503 });
    } finally {
      stranger.close();
    }
  });
});

describe('verdicts kept', () => {
  test('when a token was verified, then its verdict is kept until it expires, and checked again after', async () => {
    let clock = Date.now();
    const keeping = createTokenVerifier({ issuer: issuer.url, service: SERVICE, logger, clock: () => clock });
    const token = await issuer.userToken('alice', { lifetimeSeconds: 60 });
    const first = await keeping.verify(token);
    assert.equal(await keeping.verify(token), first); // the same verdict, not a new check
    assert.notEqual(await keeping.verify(await issuer.userToken('alice')), first);
    clock += (60 + auth.leeway_seconds) * 1000; // past exp and the leeway, by the verifier's clock
    const again = await keeping.verify(token); // (jose, on the real clock, still finds it valid)
    assert.notEqual(again, first);
    assert.deepEqual(again, first);
  });

  test('when a token is refused, then it is refused every time', async () => {
    const keeping = createTokenVerifier({ issuer: issuer.url, service: SERVICE, logger });
    const forged = `${(await issuer.userToken('alice')).slice(0, -4)}AAAA`;
    for (let n = 0; n < 2; n += 1) await assert.rejects(keeping.verify(forged), { status: 401 });
  });
});

describe('over HTTP', () => {
  test('when a request has no token, then it gets a 401 problem with a challenge', async () => {
    const response = await whoami();
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="polyshop"');
    assert.equal((await response.json()).status, 401);
  });

  test('when a request has a bad token, then the challenge says invalid_token', async () => {
    const response = await whoami('Bearer not-a-jwt');
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate'), /error="invalid_token"/);
  });

  test('when a token is refused, then the answer says nothing of why and the debug log does', async () => {
    const lines = [];
    const destination = new Writable({
      write(chunk, encoding, done) {
        lines.push(JSON.parse(chunk));
        done();
      },
    });
    const debugLogger = createLogger({ service: 'test', level: 'debug', destination });
    const watched = createTokenVerifier({ issuer: issuer.url, service: SERVICE, logger: debugLogger });
    const token = await issuer.sign({ sub: 'alice', aud: auth.user_audience, iss: 'http://evil.example' });
    const error = await watched.verify(token).catch((caught) => caught);
    assert.equal(error.status, 401);
    assert.equal(error.detail, 'the bearer token is not valid');
    const line = lines.find((entry) => entry.message === 'bearer token refused');
    assert.match(line.reason, /iss/);
  });

  test('when a request has a valid token, then the route sees the principal', async () => {
    const response = await whoami(`Bearer ${await issuer.userToken('bob')}`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { name: 'bob', isService: false });
  });
});

/** A server whose metadata says what it is told to, for the metadata checks. */
async function metadataServer(metadata) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      jwks_uri: 'http://127.0.0.1:1/jwks.json', token_endpoint: 'http://127.0.0.1:1/token', ...metadata,
    }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
