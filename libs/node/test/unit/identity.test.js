import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { SignJWT, UnsecuredJWT } from 'jose';
import { problemHandler, startWebServer, stopWebServer } from '../../src/http.js';
import {
  requirePrincipal, serviceToken, userToken, verifyToken,
} from '../../src/identity.js';
import { createLogger } from '../../src/logger.js';

const SECRET = 'test-secret';
const logger = createLogger({ service: 'test', level: 'silent' });
let server;
let baseUrl;

before(async () => {
  const app = express();
  app.get('/whoami', requirePrincipal(SECRET), (req, res) => res.json(req.principal));
  app.use(problemHandler({ logger }));
  server = await startWebServer(app);
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});

after(() => stopWebServer(server));

function whoami(authorization) {
  return fetch(`${baseUrl}/whoami`, { headers: authorization ? { authorization } : {} });
}

test('when a user token is valid, then the principal is the user', async () => {
  const principal = await verifyToken(await userToken('alice', SECRET), SECRET);
  assert.deepEqual(principal, { name: 'alice', isService: false });
});

test('when a service signs a token, then the principal is that service', async () => {
  const principal = await verifyToken(await serviceToken('notifications', SECRET), SECRET);
  assert.deepEqual(principal, { name: 'service:notifications', isService: true });
});

test('when a token is signed with another secret, then it is refused', async () => {
  const token = await userToken('alice', 'other-secret');
  await assert.rejects(verifyToken(token, SECRET), { status: 401 });
});

test('when a token has no exp, then it is refused', async () => {
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice')
    .sign(new TextEncoder().encode(SECRET));
  await assert.rejects(verifyToken(token, SECRET), { status: 401 });
});

test('when a token has expired, then it is refused', async () => {
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice')
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(new TextEncoder().encode(SECRET));
  await assert.rejects(verifyToken(token, SECRET), { status: 401 });
});

test('when a token says alg none, then it is refused', async () => {
  const token = new UnsecuredJWT({}).setSubject('alice').setExpirationTime('1h').encode();
  await assert.rejects(verifyToken(token, SECRET), { status: 401 });
});

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

test('when a request has a valid token, then the route sees the principal', async () => {
  const response = await whoami(`Bearer ${await userToken('bob', SECRET)}`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { name: 'bob', isService: false });
});
