/**
 * What every Express app of polyshop has: problem JSON errors (RFC 9457),
 * a bounded JSON body parser, a 404 fallback, health routes, and starting
 * and stopping the web server.
 *
 * Routes throw `HttpProblem` subclasses (or let any error escape); Express 5
 * forwards rejected async handlers to `problemHandler`, the one place that
 * turns errors into responses. A client always gets the same error shape.
 */
import { once } from 'node:events';
import http from 'node:http';
import { setTimeout } from 'node:timers/promises';
import express from 'express';
import {
  activeFaults, ERRORS, isOn, SLOW, valueOf,
} from './faults.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An error that becomes a problem response with its status. */
export class HttpProblem extends Error {
  constructor(status, title, detail, { headers = {}, ...extensions } = {}) {
    super(detail ?? title);
    this.name = this.constructor.name;
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.headers = headers;
    this.extensions = extensions;
  }
}

export class NotFound extends HttpProblem {
  constructor(detail) {
    super(404, 'Not Found', detail);
  }
}

export class BadRequest extends HttpProblem {
  constructor(detail) {
    super(400, 'Bad Request', detail);
  }
}

/** Writes a problem response. */
export function sendProblem(res, { status, title, detail, headers = {}, extensions = {} }) {
  const body = { type: 'about:blank', title, status };
  if (detail) body.detail = detail;
  body.instance = res.req.originalUrl.split('?')[0];
  res.status(status).set(headers).type(PROBLEM_CONTENT_TYPE);
  res.send(JSON.stringify({ ...body, ...extensions }));
}

/** JSON bodies up to `limit`; malformed JSON becomes a 400 problem, too large a 413. */
export function jsonBody({ limit = '100kb' } = {}) {
  return express.json({ limit });
}

/** The last route: anything unmatched is a 404 problem. */
export function notFoundHandler(req) {
  throw new NotFound(`no route for ${req.method} ${req.path}`);
}

/**
 * The error middleware, registered after every route.
 * @param {object} options
 * @param {import('pino').Logger} options.logger
 */
export function problemHandler({ logger }) {
  // Express tells error middleware apart by its four parameters.
  return (error, req, res, _next) => {
    if (error instanceof HttpProblem) return sendProblem(res, error);
    // Errors of Express's own body parser carry a status and are safe to show.
    if (Number.isInteger(error.status) && error.status >= 400 && error.status < 500) {
      const { status } = error;
      const malformed = error.type === 'entity.parse.failed';
      const detail = malformed ? 'the body is not valid JSON' : error.message;
      return sendProblem(res, { status, title: http.STATUS_CODES[status], detail });
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
    return sendProblem(res, { status: 500, title: 'Internal Server Error' });
  };
}

// Asked every few seconds by machines: logged at debug, not to drown the rest.
const PROBES = new Set(['/livez', '/readyz', '/metrics']);

/**
 * One log line per request, with the gateway's X-Request-ID so a request can
 * be followed across pieces. Health probes and metrics scrapes log at debug.
 */
export function requestLogger(logger) {
  const log = logger.child({ component: 'http' });
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const probe = PROBES.has(req.path);
      const level = probe ? 'debug' : res.statusCode >= 500 ? 'error' : 'info';
      log[level]({
        method: req.method,
        path: req.path,
        status: res.statusCode,
        duration_ms: Math.round(performance.now() - started),
        request_id: req.get('x-request-id'),
      }, 'request');
    });
    next();
  };
}

/**
 * `GET /livez` (the process answers) and `GET /readyz` (every check passes).
 * @param {Record<string, () => boolean>} checks e.g. { database, registered, consumer }
 */
export function healthRouter(checks) {
  const router = express.Router();
  router.get('/livez', (req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (req, res) => {
    const entries = Object.entries(checks).map(([name, check]) => [name, Boolean(check())]);
    const results = Object.fromEntries(entries);
    // A fault switch that is on shows here, ready or not (faults.js).
    const on = activeFaults();
    const switched = Object.keys(on).length > 0 ? { faults: on } : {};
    // The same bodies as the Python library's: an error is problem JSON, naming what is missing.
    if (Object.values(results).every(Boolean)) {
      return res.json({ status: 'ok', checks: results, ...switched });
    }
    return sendProblem(res, {
      status: 503,
      title: 'Service Unavailable',
      detail: 'Not ready yet.',
      extensions: { checks: results, ...switched },
    });
  });
  return router;
}

/**
 * The `slow` and `errors` fault switches (faults.js), for every route after
 * it: mounted after the probes and /metrics, which keep answering, since the
 * switches break the service's work, not what shows that it is broken.
 */
export async function injectFaults(req, res, next) {
  const delayMs = valueOf(SLOW, 0);
  if (delayMs) await setTimeout(delayMs);
  if (isOn(ERRORS)) throw new HttpProblem(503, 'Service Unavailable', "The fault switch 'errors' is on.");
  next();
}

/**
 * Listens; port 0 picks a free port (tests).
 * @returns {Promise<http.Server>} listening; `server.address().port` is the port
 */
// The gateway and other services keep pooled connections open between
// requests. Node's default (5 s) would close idle ones under them, and a
// request sent on a connection the server is closing fails with a reset; the
// Python services' gunicorn keeps them as long (polyshop_common.gunicorn_service).
export const KEEP_ALIVE_MS = 75_000;

export async function startWebServer(app, { host = '127.0.0.1', port = 0 } = {}) {
  const server = http.createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // Larger than keepAliveTimeout, or Node may answer a slow next request's
  // headers with a timeout on a connection it still holds open.
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

/** Stops accepting connections and waits for requests in flight. */
export async function stopWebServer(server) {
  if (!server.listening) return;
  const closed = once(server, 'close');
  server.close();
  server.closeIdleConnections();
  await closed;
}
