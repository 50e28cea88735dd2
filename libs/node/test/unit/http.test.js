import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import {
  healthRouter, jsonBody, KEEP_ALIVE_MS, notFoundHandler, NotFound, problemHandler, startWebServer,
  stopWebServer,
} from '../../src/http.js';
import { createLogger } from '../../src/logger.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const checks = { database: true, registered: false };
let server;
let baseUrl;

before(async () => {
  const app = express();
  app.use(jsonBody({ limit: '1kb' }));
  app.use(healthRouter({ database: () => checks.database, registered: () => checks.registered }));
  app.post('/echo', (req, res) => res.json(req.body));
  app.get('/things/:id', async (req) => {
    throw new NotFound(`no thing ${req.params.id}`);
  });
  app.get('/boom', async () => {
    throw new Error('secret internals');
  });
  app.use(notFoundHandler);
  app.use(problemHandler({ logger }));
  server = await startWebServer(app);
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});

after(() => stopWebServer(server));

async function problemOf(response) {
  assert.match(response.headers.get('content-type'), /^application\/problem\+json/);
  return response.json();
}

test('when a route throws an HttpProblem, then the client gets its problem JSON', async () => {
  const response = await fetch(`${baseUrl}/things/42`);
  assert.equal(response.status, 404);
  assert.deepEqual(await problemOf(response), {
    type: 'about:blank', title: 'Not Found', status: 404, detail: 'no thing 42', instance: '/things/42',
  });
});

test('when a route fails unexpectedly, then a 500 problem tells nothing of the internals', async () => {
  const response = await fetch(`${baseUrl}/boom`);
  assert.equal(response.status, 500);
  const problem = await problemOf(response);
  assert.equal(problem.title, 'Internal Server Error');
  assert.doesNotMatch(JSON.stringify(problem), /secret internals/);
});

test('when the body is malformed JSON, then a 400 problem says so', async () => {
  const response = await fetch(`${baseUrl}/echo`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":',
  });
  assert.equal(response.status, 400);
  assert.equal((await problemOf(response)).detail, 'the body is not valid JSON');
});

test('when the body is too large, then a 413 problem answers', async () => {
  const response = await fetch(`${baseUrl}/echo`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ a: 'x'.repeat(2000) }),
  });
  assert.equal(response.status, 413);
  await problemOf(response);
});

test('when no route matches, then a 404 problem answers', async () => {
  const response = await fetch(`${baseUrl}/nowhere`);
  assert.equal(response.status, 404);
  assert.equal((await problemOf(response)).instance, '/nowhere');
});

test('when a readiness check fails, then /readyz is 503 and /livez still 200', async () => {
  const ready = await fetch(`${baseUrl}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.deepEqual((await ready.json()).checks, { database: true, registered: false });
  assert.equal((await fetch(`${baseUrl}/livez`)).status, 200);
});

test('when every readiness check passes, then /readyz is 200', async () => {
  checks.registered = true;
  const ready = await fetch(`${baseUrl}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal((await ready.json()).status, 'ok');
});

test('when the gateway pools a connection, then the server keeps it open as long as gunicorn does', () => {
  // Node's own 5 s would close pooled connections under the gateway's feet.
  assert.equal(server.keepAliveTimeout, KEEP_ALIVE_MS);
  assert.equal(KEEP_ALIVE_MS, 75_000);
  assert.ok(server.headersTimeout > server.keepAliveTimeout);
});
