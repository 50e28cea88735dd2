/**
 * Each order linked to its trace (TRACE_VIEW_URL): the setting, the trace
 * id the timeline keeps from the span a step is stored in, and the links
 * on the order page and in the system view's lanes.
 *
 * Tracing runs as `npm test` runs a service, off (nothing exported), which
 * still gives every span a real trace id: a step is stored the way the
 * consumer loop stores it, inside a `process` span whose parent is the
 * record's traceparent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ConfigError, createLogger, openDatabase, startWebServer, stopWebServer, within,
} from '@polyshop/common';
import { startTelemetry, tracer } from '@polyshop/common/telemetry';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { storeStep } from '../src/consumers/index.js';
import { openStorefrontDatabase } from '../src/database.js';
import { recentOrders, recordStep, storedStep, stepsOf } from '../src/domain/timeline.js';
import { createHub } from '../src/live/hub.js';
import { linksToTraces } from '../src/trace-links.js';
import { followEvents, OPERATOR_TOKEN, REQUIRED } from './support/storefront.js';

process.env.OTEL_TRACES_EXPORTER = 'none';
await startTelemetry({ service: 'storefront-test' });

const ORDER = '0b6a7a52-3f0e-4c59-9d3a-3f1c2a7e5b10';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTHER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const ZIPKIN = 'http://127.0.0.1:9411/zipkin/traces/{trace_id}';
const JAEGER = 'http://localhost:16686/trace/{trace_id}';
const NOT_TRACE_IDS = {
  'upper-case hex': TRACE.toUpperCase(),
  'one digit short': TRACE.slice(1),
  'all zeros (W3C: invalid)': '0'.repeat(32),
  'a path': `../../${TRACE.slice(6)}`,
  'markup': `${TRACE.slice(0, 24)}"><b>x`,
};

let eventCount = 0;
function event(type, source, data = {}, orderId = ORDER) {
  eventCount += 1;
  const time = new Date(Date.UTC(2026, 11, 2, 10, 0, eventCount)).toISOString();
  return { id: `${type}-${eventCount}`, type, source, time, data: { order_id: orderId, user: 'alice', ...data } };
}

/** As the consumer loop handles a record: inside its `process` span, a child of the span that sent it. */
function handled(traceId, work) {
  const carrier = { traceparent: `00-${traceId}-00f067aa0ba902b7-01` };
  return within(carrier, () => tracer().startActiveSpan('process orders', (span) => {
    try {
      assert.equal(span.spanContext().traceId, traceId);
      return work();
    } finally {
      span.end();
    }
  }));
}

describe('TRACE_VIEW_URL', () => {
  const settingOf = (value) => loadConfig({ ...REQUIRED, OPERATOR_TOKEN, TRACE_VIEW_URL: value }).traceViewUrl;
  const problemsOf = (value) => {
    try {
      loadConfig({ ...REQUIRED, OPERATOR_TOKEN, TRACE_VIEW_URL: value });
      return [];
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems;
    }
  };

  test('when it is not set, or blank, then no trace is linked', () => {
    assert.equal(settingOf(undefined), null);
    assert.equal(settingOf(''), null);
    assert.equal(settingOf('  '), null);
  });

  test("when it is Zipkin's or Jaeger's trace page, then it is kept as given", () => {
    assert.equal(settingOf(ZIPKIN), ZIPKIN);
    assert.equal(settingOf(` ${JAEGER}\n`), JAEGER);
    assert.equal(settingOf('https://traces.example/t/{trace_id}?view=timeline'), 'https://traces.example/t/{trace_id}?view=timeline');
  });

  const bad = {
    'no {trace_id}': ['http://127.0.0.1:9411/zipkin/traces/', /has no \{trace_id\}/],
    'another placeholder': ['http://127.0.0.1:9411/zipkin/traces/{traceId}', /has no \{trace_id\}/],
    'a relative URL': ['/zipkin/traces/{trace_id}', /not an absolute http\(s\) URL/],
    'no host': ['http:///traces/{trace_id}', /not an absolute http\(s\) URL/],
    'another scheme': ['ftp://traces.example/{trace_id}', /not an absolute http\(s\) URL/],
    'a script': ['javascript:alert(1)//{trace_id}', /not an absolute http\(s\) URL/],
    'a space': ['http://traces.example/a b/{trace_id}', /not an absolute http\(s\) URL/],
    'a password': ['http://admin:secret@traces.example/{trace_id}', /user name or password/],
  };
  for (const [what, [value, message]] of Object.entries(bad)) {
    test(`when it has ${what}, then the storefront does not start and says why`, () => {
      const problems = problemsOf(value);
      assert.equal(problems.length, 1);
      assert.ok(problems[0].startsWith(`TRACE_VIEW_URL: "${value}" `), problems[0]);
      assert.match(problems[0], message);
    });
  }
});

describe('a link to a trace', () => {
  test('when the id is a trace id, then it takes the place of {trace_id}', () => {
    assert.equal(linksToTraces(JAEGER).href(TRACE), `http://localhost:16686/trace/${TRACE}`);
    assert.equal(linksToTraces(ZIPKIN).shown, true);
  });

  test('when the setting is unset, then there is no link, whatever the id', () => {
    assert.equal(linksToTraces(null).shown, false);
    assert.equal(linksToTraces(null).href(TRACE), null);
  });

  for (const [what, id] of Object.entries({ ...NOT_TRACE_IDS, nothing: undefined, 'not a string': 42 })) {
    test(`when the id is ${what}, then no link is made of it`, () => {
      assert.equal(linksToTraces(ZIPKIN).href(id), null);
    });
  }
});

describe("the timeline's trace of each order", () => {
  test('when a step is stored inside a record\'s process span, then the order keeps that trace id', () => {
    const db = openStorefrontDatabase(':memory:');

    assert.equal(handled(TRACE, () => storeStep(db, event('order.created', '/orders'))), true);

    assert.equal(stepsOf(db, ORDER)[0].trace_id, TRACE);
    assert.equal(recentOrders(db)[0].trace_id, TRACE);
  });

  test('when later steps come in another trace, then the first trace id seen stays', () => {
    const db = openStorefrontDatabase(':memory:');
    handled(TRACE, () => storeStep(db, event('order.created', '/orders')));

    handled(OTHER_TRACE, () => storeStep(db, event('inventory.reserved', '/inventory')));

    assert.deepEqual(stepsOf(db, ORDER).map((step) => step.trace_id), [TRACE, TRACE]);
  });

  test('when a step is stored outside any span, then it is kept without a trace, and the next one in a trace gives it', () => {
    const db = openStorefrontDatabase(':memory:');
    assert.equal(storeStep(db, event('order.created', '/orders')), true);
    assert.equal(stepsOf(db, ORDER)[0].trace_id, undefined);
    assert.equal('trace_id' in recentOrders(db)[0], false);

    handled(OTHER_TRACE, () => storeStep(db, event('inventory.reserved', '/inventory')));

    assert.equal(recentOrders(db)[0].trace_id, OTHER_TRACE);
  });

  test('when an event comes again in another trace, then nothing changes', () => {
    const db = openStorefrontDatabase(':memory:');
    const again = event('order.created', '/orders', {}, 'c0ffee00-0000-4000-8000-000000000001');
    assert.equal(storeStep(db, again), true);

    assert.equal(handled(TRACE, () => storeStep(db, again)), false);

    assert.equal(stepsOf(db, again.data.order_id)[0].trace_id, undefined);
  });

  for (const [what, id] of Object.entries(NOT_TRACE_IDS)) {
    test(`when the trace id given is ${what}, then it is not kept`, () => {
      const db = openStorefrontDatabase(':memory:');
      recordStep(db, event('order.created', '/orders'), { traceId: id });
      assert.equal(db.prepare('SELECT COUNT(*) AS n FROM order_traces').get().n, 0);
    });
  }

  test('when a database from before the trace ids is opened, then it is migrated and keeps its steps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'storefront-traces-'));
    try {
      const path = join(dir, 'storefront.db');
      const old = openStorefrontDatabase(path);
      recordStep(old, event('order.created', '/orders'));
      // As the database was before this migration: version 2, no order_traces.
      old.exec('DROP TABLE order_traces; PRAGMA user_version = 2');
      old.close();
      const before2 = openDatabase(path);
      assert.equal(before2.pragma('user_version', { simple: true }), 2);
      before2.close();

      const db = openStorefrontDatabase(path);

      assert.equal(db.pragma('user_version', { simple: true }), 3);
      assert.equal(stepsOf(db, ORDER).length, 1);
      handled(TRACE, () => storeStep(db, event('inventory.reserved', '/inventory')));
      assert.equal(recentOrders(db)[0].trace_id, TRACE);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A unit test of the pages: orders is a stand-in; the timeline and the event streams are real.
function storefront(traceViewUrl) {
  const db = openStorefrontDatabase(':memory:');
  const hub = createHub();
  const orders = new Map();
  const backends = {
    languageOf: () => 'node',
    products: async () => [{ sku: 'TEA', name: 'Tea', price_cents: 650, currency: 'EUR' }],
    login: async () => ({ token: 'header.payload.signature', expiresIn: 3600 }),
    order: async (token, id) => orders.get(id) ?? Promise.reject(Object.assign(new Error('none'), { status: 404 })),
  };
  const lanesOnce = (listener) => {
    listener({ generated_at: new Date().toISOString(), lanes: recentOrders(db) });
    return () => {};
  };
  const env = { ...REQUIRED, OPERATOR_TOKEN, LOG_LEVEL: 'silent', TRACE_VIEW_URL: traceViewUrl };
  const app = createApp({
    config: loadConfig(env),
    logger: createLogger({ service: 'storefront-test', level: 'silent' }),
    db,
    readiness: {},
    backends,
    hub,
    monitor: { subscribe: lanesOnce },
  });
  const shop = {
    db,
    place(id) {
      orders.set(id, {
        id, status: 'PENDING', reason: null, total_cents: 650, currency: 'EUR',
        created_at: '2026-12-02T10:00:00.000Z', items: [{ sku: 'TEA', quantity: 1 }],
      });
    },
    /** As the service does: the consumer stores the step in the record's trace, then it goes live. */
    step(traceId, type, source, orderId) {
      const stored = event(type, source, {}, orderId);
      handled(traceId, () => storeStep(db, stored));
      hub.publishStep(storedStep(db, stored.id));
    },
    async start() {
      shop.server = await startWebServer(app);
      shop.base = `http://127.0.0.1:${shop.server.address().port}`;
      const page = await fetch(`${shop.base}/login`);
      const cookie = page.headers.get('set-cookie').split(';')[0];
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())[1];
      const login = await fetch(`${shop.base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, username: 'alice', password: 'wonderland' }),
      });
      shop.cookie = login.headers.get('set-cookie').split(';')[0];
    },
    async page(path) {
      const answer = await fetch(`${shop.base}${path}`, { headers: { cookie: shop.cookie, accept: 'text/html' } });
      assert.equal(answer.status, 200);
      return answer.text();
    },
    follow: (path) => followEvents(`${shop.base}${path}`, { cookie: shop.cookie }),
    stop: () => stopWebServer(shop.server),
  };
  return shop;
}

const newOrderId = (n) => `${String(n).padStart(8, '0')}-3f0e-4c59-9d3a-3f1c2a7e5b10`;
const linkOf = (page) => /<a id="trace-link"[^>]*>[^<]*<\/a>/.exec(page)?.[0];
const stepsIn = (events) => events.filter(({ event: name }) => name === 'step').map(({ data }) => data);

describe('the pages, with TRACE_VIEW_URL set', () => {
  const shop = storefront(ZIPKIN);
  before(() => shop.start());
  after(() => shop.stop());

  test('when the order\'s trace is known, then its page links to it, in a new tab', async () => {
    const id = newOrderId(1);
    shop.place(id);
    shop.step(TRACE, 'order.created', '/orders', id);

    const page = await shop.page(`/orders/${id}`);

    assert.equal(linkOf(page), `<a id="trace-link" href="http://127.0.0.1:9411/zipkin/traces/${TRACE}" target="_blank" rel="noopener">See this order's trace</a>`);
    assert.doesNotMatch(/<p id="trace"[^>]*>/.exec(page)[0], /hidden/);
  });

  test('when the page was opened before the first step, then the link comes with the step', async () => {
    const id = newOrderId(2);
    shop.place(id);
    const page = await shop.page(`/orders/${id}`);
    assert.match(/<p id="trace"[^>]*>/.exec(page)[0], /hidden/);
    assert.equal(linkOf(page), '<a id="trace-link" target="_blank" rel="noopener">See this order\'s trace</a>');
    const stream = await shop.follow(`/orders/${id}/events`);
    try {
      shop.step(TRACE, 'order.created', '/orders', id);

      const [step] = stepsIn(await stream.until((events) => stepsIn(events).length > 0, { what: 'the first step' }));

      assert.equal(step.trace_url, `http://127.0.0.1:9411/zipkin/traces/${TRACE}`);
      assert.equal('trace_id' in step, false);
    } finally {
      stream.close();
    }
  });

  test('when the page is opened again, then the steps it is sent first carry the link too', async () => {
    const id = newOrderId(3);
    shop.place(id);
    shop.step(TRACE, 'order.created', '/orders', id);
    shop.step(TRACE, 'inventory.reserved', '/inventory', id);
    const stream = await shop.follow(`/orders/${id}/events`);
    try {
      const steps = stepsIn(await stream.until((events) => stepsIn(events).length === 2, { what: 'both steps' }));
      assert.deepEqual(steps.map((step) => step.trace_url), Array(2).fill(`http://127.0.0.1:9411/zipkin/traces/${TRACE}`));
    } finally {
      stream.close();
    }
  });

  test('when what the timeline holds is not a trace id, then it goes in no link', async () => {
    const id = newOrderId(4);
    shop.place(id);
    shop.step(TRACE, 'order.created', '/orders', id);
    shop.db.prepare('UPDATE order_traces SET trace_id = ? WHERE order_id = ?').run(`${TRACE.slice(0, 24)}"><b>x`, id);

    const page = await shop.page(`/orders/${id}`);

    assert.equal(linkOf(page), '<a id="trace-link" target="_blank" rel="noopener">See this order\'s trace</a>');
    assert.doesNotMatch(page, /<b>x/);
    const stream = await shop.follow(`/orders/${id}/events`);
    try {
      const [step] = stepsIn(await stream.until((events) => stepsIn(events).length > 0, { what: 'the step' }));
      assert.equal('trace_url' in step, false);
      assert.equal('trace_id' in step, false);
    } finally {
      stream.close();
    }
  });

  test('when the system view is open, then each lane and each new step carries its trace link, and nothing personal', async () => {
    const [traced, odd, live] = [newOrderId(5), newOrderId(6), newOrderId(7)];
    shop.step(TRACE, 'order.created', '/orders', traced);
    shop.step(TRACE, 'order.created', '/orders', odd);
    shop.db.prepare('UPDATE order_traces SET trace_id = ? WHERE order_id = ?').run(TRACE.toUpperCase(), odd);
    const stream = await shop.follow('/system/events');
    try {
      shop.step(OTHER_TRACE, 'order.created', '/orders', live);

      const events = await stream.until((seen) => stepsIn(seen).some((step) => step.order_id === live), { what: 'the new step' });

      const { lanes } = events.find(({ event: name }) => name === 'snapshot').data;
      const laneOf = (id) => lanes.find((lane) => lane.order_id === id);
      assert.equal(laneOf(traced).trace_url, `http://127.0.0.1:9411/zipkin/traces/${TRACE}`);
      assert.equal('trace_url' in laneOf(odd), false);
      const step = stepsIn(events).find((seen) => seen.order_id === live);
      assert.equal(step.trace_url, `http://127.0.0.1:9411/zipkin/traces/${OTHER_TRACE}`);
      assert.doesNotMatch(JSON.stringify(events), /alice|trace_id|reason/);
    } finally {
      stream.close();
    }
  });
});

describe('the pages, with TRACE_VIEW_URL unset', () => {
  const shop = storefront(undefined);
  before(() => shop.start());
  after(() => shop.stop());

  test('when the order\'s trace is known, then neither the page nor its steps link to it', async () => {
    const id = newOrderId(8);
    shop.place(id);
    shop.step(TRACE, 'order.created', '/orders', id);

    const page = await shop.page(`/orders/${id}`);

    assert.doesNotMatch(page, /trace/i);
    const stream = await shop.follow(`/orders/${id}/events`);
    try {
      const [step] = stepsIn(await stream.until((events) => stepsIn(events).length > 0, { what: 'the step' }));
      assert.deepEqual(Object.keys(step).filter((key) => key.startsWith('trace')), []);
    } finally {
      stream.close();
    }
  });

  test('when the system view is open, then its lanes and steps carry no trace', async () => {
    const stream = await shop.follow('/system/events');
    try {
      const id = newOrderId(9);
      shop.step(TRACE, 'order.created', '/orders', id);

      const events = await stream.until((seen) => stepsIn(seen).some((step) => step.order_id === id), { what: 'the new step' });

      assert.doesNotMatch(JSON.stringify(events), /trace/);
    } finally {
      stream.close();
    }
  });
});
