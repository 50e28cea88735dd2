/**
 * Tracing as a service process has it, set by OTEL_* alone: off unless
 * OTEL_TRACES_EXPORTER names an exporter, and then spans sent to a
 * collector (a stand-in on port 0 that records what it is sent), the last
 * ones when the service stops.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { eventually } from '../support/eventually.js';
import { registered, START_MS, startService } from '../support/service-process.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const received = [];
let collector;

before(async () => {
  collector = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    received.push({ url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks) });
    res.writeHead(req.url === '/v1/traces' ? 200 : 202).end();
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
});

after(() => collector.close());

/** The traced fixture, with every exporter pointed at the collector. */
async function startTraced(t, exporter, env = {}) {
  received.length = 0;
  const url = `http://127.0.0.1:${collector.address().port}`;
  const service = await startService(t, {
    ...env,
    OTEL_TRACES_EXPORTER: exporter,
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${url}/api/v2/spans`,
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
    OTEL_TRACES_SAMPLER: undefined,
    OTEL_SERVICE_NAME: undefined,
  }, { fixture: 'traced-service-process.js' });
  await registered(service.lines);
  const { port } = service.lines().find((line) => line.message === 'listening');
  return { ...service, base: `http://127.0.0.1:${port}` };
}

function requestLine(lines, path) {
  return eventually(() => lines().find((line) => line.message === 'request' && line.path === path), {
    timeoutMs: START_MS, message: `the request line of ${path}`,
  });
}

async function stop({ child, exited }) {
  child.kill('SIGTERM');
  assert.equal((await exited).code, 0);
}

test('when OTEL_TRACES_EXPORTER is unset, then a root request logs a fresh trace id and nothing is exported', async (t) => {
  const service = await startTraced(t, undefined);
  await fetch(`${service.base}/hello`);
  const root = await requestLine(service.lines, '/hello');
  assert.match(root.trace_id, /^[0-9a-f]{32}$/);
  assert.notEqual(root.trace_id, '0'.repeat(32));
  assert.match(root.span_id, /^[0-9a-f]{16}$/);
  await fetch(`${service.base}/hello?again`, { headers: { traceparent: TRACEPARENT } });
  const child = await eventually(() => service.lines().filter((line) => line.path === '/hello')[1]);
  assert.equal(child.trace_id, TRACE_ID, 'a request that comes with a trace keeps it');
  await stop(service);
  assert.deepEqual(received, []);
});

test('when OTEL_SDK_DISABLED is true, then nothing is set up: no trace ids, nothing exported', async (t) => {
  const service = await startTraced(t, 'zipkin', { OTEL_SDK_DISABLED: 'true' });
  await fetch(`${service.base}/hello`, { headers: { traceparent: TRACEPARENT } });
  const line = await requestLine(service.lines, '/hello');
  assert.equal(line.trace_id, undefined);
  await stop(service);
  assert.deepEqual(received, []);
});

test('when OTEL_TRACES_EXPORTER is zipkin, then the server span reaches Zipkin, sent as the service stops', async (t) => {
  const service = await startTraced(t, 'zipkin');
  await fetch(`${service.base}/hello`, { headers: { traceparent: TRACEPARENT } });
  const { span_id: spanId } = await requestLine(service.lines, '/hello');
  await stop(service);
  const spans = received.filter((r) => r.url === '/api/v2/spans').flatMap((r) => JSON.parse(r.body));
  const span = spans.find((s) => s.id === spanId);
  assert.ok(span, `no span ${spanId} in ${JSON.stringify(spans)}`);
  assert.equal(span.traceId, TRACE_ID);
  assert.equal(span.kind, 'SERVER');
  assert.equal(span.name.toLowerCase(), 'get /hello');
  assert.equal(span.localEndpoint.serviceName, 'demo');
});

test('when OTEL_TRACES_EXPORTER is otlp, then the spans go out as OTLP over HTTP/protobuf', async (t) => {
  const service = await startTraced(t, 'otlp');
  await fetch(`${service.base}/hello`, { headers: { traceparent: TRACEPARENT } });
  await requestLine(service.lines, '/hello');
  await stop(service);
  assert.ok(received.length > 0, 'nothing exported');
  assert.ok(received.every((sent) => sent.url === '/v1/traces' && sent.type === 'application/x-protobuf'));
  const traceId = Buffer.from(TRACE_ID, 'hex');
  assert.ok(received.some((sent) => sent.body.includes(traceId)), 'the trace id is in no export');
});

test('when OTEL_TRACES_EXPORTER names an exporter not shipped, then it exits 1 naming the setting', async (t) => {
  const { exited } = await startService(t, { OTEL_TRACES_EXPORTER: 'jaeger' }, {
    fixture: 'traced-service-process.js',
  });
  const { code, stderr } = await exited;
  assert.equal(code, 1);
  assert.match(stderr, /^demo could not start: OTEL_TRACES_EXPORTER=jaeger: expected one of console, none, otlp, zipkin\n$/);
});
