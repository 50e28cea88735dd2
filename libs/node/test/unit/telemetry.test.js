/**
 * Tracing in one process, over real sockets: the server span of a request,
 * the ids on its log lines, the client span of a call to another service,
 * and the calls that make no span (probes, the registry client's). Spans
 * are kept in memory (support/spans.js); telemetry starts before the
 * library is imported, as a service's server.js starts it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { eventually } from '../support/eventually.js';
import { collectSpans, idsOf } from '../support/spans.js';

const spans = await collectSpans();
const {
  createLogger, createServiceApp, createServiceClient, openDatabase, RegistryApi, startWebServer,
  stopWebServer, untraced,
} = await import('../../src/index.js');
const express = (await import('express')).default;
const { tracingSettings } = await import('../../src/telemetry.js');

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;
const lines = [];
const logger = createLogger({
  service: 'telemetry-test',
  destination: new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk));
      done();
    },
  }),
});
let server;
let base;
let other; // another service: answers with the headers it was sent
let seenByOther = [];

before(async () => {
  other = http.createServer((req, res) => {
    seenByOther.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end('{}');
  });
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  const discovery = { instances: () => [{ host: '127.0.0.1', port: other.address().port }] };
  const client = createServiceClient({ discovery, service: 'other', logger });
  const routes = express.Router()
    .get('/hello/:name', (req, res) => {
      logger.info({ name: req.params.name }, 'saying hello');
      res.json({ hello: req.params.name });
    })
    .get('/ask-other', async (req, res) => res.json(await client.getJson('/thing')));
  const app = createServiceApp({ logger, db: openDatabase(':memory:'), routers: [routes] });
  server = await startWebServer(app);
  base = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  await stopWebServer(server);
  other.close();
});

// The test's own calls make no span: only the server's spans are looked at.
function get(path, headers = {}) {
  return untraced(() => fetch(`${base}${path}`, { headers }));
}

async function spansWhere(predicate, count = 1) {
  return eventually(async () => {
    const found = (await spans.finished()).filter(predicate);
    return found.length >= count ? found : null;
  }, { message: `${count} span(s) matching ${predicate}` });
}

test('when a request comes with a traceparent, then its server span joins that trace, named by its route', async () => {
  spans.clear();
  const response = await get('/hello/ada', { traceparent: TRACEPARENT });
  assert.equal(response.status, 200);
  const [span] = await spansWhere((s) => s.kind === SpanKind.SERVER);
  assert.equal(span.name, 'GET /hello/:name');
  assert.equal(span.attributes['http.route'], '/hello/:name');
  assert.deepEqual(idsOf(span), { traceId: TRACE_ID, spanId: span.spanContext().spanId, parentSpanId: PARENT_ID });
  assert.equal((await spans.finished()).length, 1, 'one span per request, none per middleware');
});

test('when a request is handled, then its log lines carry the ids of its server span', async () => {
  spans.clear();
  lines.length = 0;
  await get('/hello/grace', { traceparent: TRACEPARENT });
  const [span] = await spansWhere((s) => s.kind === SpanKind.SERVER);
  const ids = { trace_id: TRACE_ID, span_id: span.spanContext().spanId };
  const handler = lines.find((line) => line.message === 'saying hello');
  const request = await eventually(() => lines.find((line) => line.message === 'request'));
  assert.deepEqual([handler.trace_id, handler.span_id], [ids.trace_id, ids.span_id]);
  assert.deepEqual([request.trace_id, request.span_id], [ids.trace_id, ids.span_id]);
});

test('when a request comes without a traceparent, then it starts a trace of its own', async () => {
  spans.clear();
  await get('/hello/linus');
  const [span] = await spansWhere((s) => s.kind === SpanKind.SERVER);
  assert.match(span.spanContext().traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(span.spanContext().traceId, TRACE_ID);
  assert.equal(span.parentSpanContext, undefined);
});

test('when a probe or a scrape comes, then it makes no span and its log line no ids', async () => {
  spans.clear();
  lines.length = 0;
  logger.level = 'debug';
  for (const path of ['/livez', '/readyz', '/metrics']) await get(path, { traceparent: TRACEPARENT });
  await get('/hello/after-the-probes');
  await spansWhere((s) => s.name === 'GET /hello/:name');
  logger.level = 'info';
  const paths = (await spans.finished()).map((s) => s.attributes['url.path'] ?? s.attributes['http.target']);
  assert.deepEqual(paths, ['/hello/after-the-probes']);
  const probe = lines.find((line) => line.path === '/livez');
  assert.ok(probe && !('trace_id' in probe), JSON.stringify(probe));
});

test('when a handler calls another service, then the call is a client span of the request, passed on', async () => {
  spans.clear();
  seenByOther = [];
  await get('/ask-other', { traceparent: TRACEPARENT });
  const [serverSpan] = await spansWhere((s) => s.kind === SpanKind.SERVER && s.name === 'GET /ask-other');
  const [clientSpan] = await spansWhere((s) => s.kind === SpanKind.CLIENT);
  assert.equal(idsOf(clientSpan).traceId, TRACE_ID);
  assert.equal(idsOf(clientSpan).parentSpanId, serverSpan.spanContext().spanId);
  assert.equal(seenByOther[0].traceparent, `00-${TRACE_ID}-${clientSpan.spanContext().spanId}-01`);
});

test('when the registry client calls, then it makes no span and passes no trace on', async (t) => {
  const seen = [];
  const registry = http.createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end('{"services": {}}');
  });
  registry.listen(0, '127.0.0.1');
  await once(registry, 'listening');
  t.after(() => registry.close());
  const api = new RegistryApi({ baseUrl: `http://127.0.0.1:${registry.address().port}`, token: 't' });
  spans.clear();
  const { tracer } = await import('../../src/telemetry.js');
  await tracer().startActiveSpan('some work', async (span) => {
    await api.listServices();
    await api.heartbeat('demo', 'demo-1');
    span.end();
  });
  assert.equal(seen.length, 2);
  assert.ok(seen.every((headers) => !('traceparent' in headers)), JSON.stringify(seen));
  const kinds = (await spans.finished()).map((s) => s.kind);
  assert.ok(!kinds.includes(SpanKind.CLIENT), `client spans: ${kinds}`);
});

test('when OTEL_TRACES_EXPORTER is unset or none, then tracing is off; zipkin, otlp and console export', () => {
  assert.deepEqual(tracingSettings({}), { exporter: 'none', off: true });
  assert.deepEqual(tracingSettings({ OTEL_TRACES_EXPORTER: ' none ' }), { exporter: 'none', off: true });
  for (const exporter of ['zipkin', 'otlp', 'console']) {
    assert.deepEqual(tracingSettings({ OTEL_TRACES_EXPORTER: exporter }), { exporter, off: false });
  }
});

test('when OTEL_TRACES_EXPORTER names another exporter, or otlp another protocol, then it is refused', () => {
  assert.throws(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'jaeger' }), /OTEL_TRACES_EXPORTER=jaeger: expected one of console, none, otlp, zipkin/);
  assert.throws(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'zipkin,console' }), /expected one of/);
  assert.throws(
    () => tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    /only http\/protobuf/,
  );
  const protobuf = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' };
  assert.equal(tracingSettings(protobuf).exporter, 'otlp');
});
