import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { createLogger } from '../../src/logger.js';
import { createServiceClient, ServiceUnavailable, UpstreamError } from '../../src/service-client.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const servers = [];

after(() => Promise.all(servers.map((server) => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
})));

/** An instance that answers every request with `handler`; records the requests. */
async function instance(name, handler) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { instance_id: name, host: '127.0.0.1', port: server.address().port, seen };
}

function json(status, body) {
  return (req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

/** A port nothing listens on: the connection is refused. */
async function deadInstance() {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return { instance_id: 'dead', host: '127.0.0.1', port };
}

function clientFor(instances, options = {}) {
  const discovery = { instances: (name) => (name === 'orders' ? instances : []) };
  return createServiceClient({ discovery, service: 'orders', logger, ...options });
}

test('when several instances are live, then calls go round robin', async () => {
  const a = await instance('a', json(200, { from: 'a' }));
  const b = await instance('b', json(200, { from: 'b' }));
  const client = clientFor([a, b]);
  const answers = [];
  for (let i = 0; i < 4; i += 1) answers.push((await client.getJson('/orders/1')).from);
  assert.deepEqual(answers, ['a', 'b', 'a', 'b']);
});

test('when headers are given, then the instance receives them', async () => {
  const a = await instance('a', json(200, {}));
  await clientFor([a]).getJson('/orders/1', { headers: { authorization: 'Bearer x' } });
  assert.deepEqual(a.seen, [{ url: '/orders/1', authorization: 'Bearer x' }]);
});

test('when the first instance refuses the connection, then another one answers', async () => {
  const dead = await deadInstance();
  const b = await instance('b', json(200, { from: 'b' }));
  assert.deepEqual(await clientFor([dead, b]).getJson('/orders/1'), { from: 'b' });
});

test('when the first instance times out, then another one answers', async () => {
  const slow = await instance('slow', () => {}); // never answers
  const b = await instance('b', json(200, { from: 'b' }));
  const client = clientFor([slow, b], { timeoutMs: 200 });
  assert.deepEqual(await client.getJson('/orders/1'), { from: 'b' });
});

test('when an answer is broken off, then another instance answers', async () => {
  const broken = await instance('broken', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"from": ');
    setImmediate(() => res.socket.destroy());
  });
  const b = await instance('b', json(200, { from: 'b' }));
  assert.deepEqual(await clientFor([broken, b]).getJson('/orders/1'), { from: 'b' });
});

test('when calls follow each other, then they share one kept-alive connection', async () => {
  const a = await instance('a', json(200, {}));
  let connections = 0;
  servers.at(-1).on('connection', () => { connections += 1; });
  const client = clientFor([a]);
  for (let i = 0; i < 3; i += 1) await client.postJson('/orders', { n: i });
  client.close();
  assert.equal(a.seen.length, 3);
  assert.equal(connections, 1);
});

test('when no instance answers, then ServiceUnavailable is thrown', async () => {
  const client = clientFor([await deadInstance(), await deadInstance()]);
  await assert.rejects(client.getJson('/orders/1'), ServiceUnavailable);
});

test('when the registry knows no instance, then ServiceUnavailable is thrown', async () => {
  await assert.rejects(clientFor([]).getJson('/orders/1'), { name: 'ServiceUnavailable', status: 503 });
});

test('when the instance answers with an error status, then UpstreamError carries it', async () => {
  const a = await instance('a', json(404, { title: 'Not Found' }));
  const b = await instance('b', json(200, {}));
  await assert.rejects(clientFor([a, b]).getJson('/orders/1'), (error) => {
    assert.ok(error instanceof UpstreamError);
    assert.equal(error.status, 404);
    assert.deepEqual(error.body, { title: 'Not Found' });
    return true;
  });
  assert.equal(b.seen.length, 0, 'an answer, even an error, is not retried elsewhere');
});
