/**
 * Metrics in Prometheus' text format (docs/observability.md, 'Metrics').
 *
 * The series every piece shares are named once, in contracts/metrics.json,
 * and built from it here and in the Python library alike. A series exists
 * once it is first used, so a service without an outbox serves no outbox
 * series.
 *
 * `requestMetrics()` times every request by its route template;
 * `metricsRouter()` answers `GET /metrics` on the service's port;
 * `watchOutbox(db)` serves the outbox's backlog, read when scraped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import {
  collectDefaultMetrics, Counter, Gauge, Histogram, register,
} from 'prom-client';
import { findContractsDir } from './events.js';

export const METRICS_PATH = '/metrics';
const KINDS = { counter: Counter, gauge: Gauge, histogram: Histogram };

let contract = null;

/** contracts/metrics.json, read once. */
export function metricsContract() {
  contract ??= JSON.parse(readFileSync(
    join(process.env.CONTRACTS_DIR || findContractsDir(), 'metrics.json'), 'utf8',
  ));
  return contract;
}

/**
 * The shared series `name` of contracts/metrics.json, made on first use in
 * prom-client's default register. The register is the cache: a test that
 * clears it gets the series made afresh on its next use.
 * @param {string} name e.g. 'polyshop_dead_letters_total'
 * @returns {import('prom-client').Metric} a Counter, Gauge or Histogram, as the contract says
 */
export function metric(name) {
  const made = register.getSingleMetric(name);
  if (made) return made;
  const spec = metricsContract().metrics[name];
  if (!spec) throw new Error(`no metric ${name} in contracts/metrics.json`);
  // prom-client keeps a counter's name as given (its `_total` included) in
  // the text format, which is the name the contract gives.
  return new KINDS[spec.type]({
    name,
    help: spec.help,
    labelNames: spec.labels,
    ...(spec.buckets && { buckets: spec.buckets }),
  });
}

/**
 * Express middleware timing each request by method, route template and
 * status, once its response is sent. Mount it first, so that it sees every
 * request, answered by a route or not.
 * @returns {import('express').RequestHandler}
 */
export function requestMetrics() {
  const duration = metric('http_server_request_duration_seconds');
  return (req, res, next) => {
    const started = performance.now();
    const route = watchRoute(req);
    res.on('finish', () => {
      duration.labels(req.method, route(), String(res.statusCode))
        .observe((performance.now() - started) / 1000);
    });
    next();
  };
}

/**
 * The template of the route that matches `req` ('/stock/:sku'), or '' while
 * none does: a 404 must not make one series per path a client tried.
 *
 * It is taken as Express sets `req.route`, not once the response is sent:
 * a route that throws leaves its router before the error handler answers,
 * and Express then puts `req.baseUrl` back to the parent's, so a router
 * mounted on a path would lose its prefix.
 * @returns {() => string}
 */
function watchRoute(req) {
  let route;
  let template = '';
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value) {
      route = value;
      template = value ? `${req.baseUrl ?? ''}${value.path}` : '';
    },
  });
  return () => template;
}

/**
 * `GET /metrics`: every series of this process, in the text format.
 * @returns {import('express').Router}
 */
export function metricsRouter() {
  // The process's own (CPU, memory, event loop), as prometheus-client serves
  // a Python piece's; once per process.
  if (!register.getSingleMetric('process_cpu_seconds_total')) collectDefaultMetrics();
  return express.Router().get(METRICS_PATH, async (req, res) => {
    const body = await register.metrics();
    res.set('Content-Type', register.contentType).send(body);
  });
}

/**
 * Serves the outbox's backlog and the age of its oldest unsent row, read
 * from `db` when scraped. A later call replaces the database read.
 * @param {import('better-sqlite3').Database} db one with the outbox table (outbox.js)
 */
export function watchOutbox(db) {
  const backlog = metric('polyshop_outbox_backlog_rows');
  const oldest = metric('polyshop_outbox_oldest_age_seconds');
  // prom-client calls a metric's `collect` on every scrape, before it reads
  // the value; a database closed at shutdown leaves the last values.
  backlog.collect = () => {
    if (db.open) backlog.set(readOutbox(db).rows);
  };
  oldest.collect = () => {
    if (db.open) oldest.set(readOutbox(db).ageSeconds);
  };
}

function readOutbox(db) {
  const [rows, first] = db
    .prepare('SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL')
    .raw()
    .get();
  if (first === null) return { rows, ageSeconds: 0 };
  return { rows, ageSeconds: Math.max((Date.now() - Date.parse(first)) / 1000, 0) };
}
