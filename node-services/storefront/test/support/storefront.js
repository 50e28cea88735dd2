/**
 * The storefront app on port 0 for the operator tests: an in-memory
 * database, the dead letters given (real ones, on a broker or on a port
 * where none answers), and a browser's session (cookie and CSRF token).
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import {
  createLogger, DeadLetters, loadContracts, startWebServer, stopWebServer,
} from '@polyshop/common';
import { randomSecret } from '@polyshop/common/testing';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openStorefrontDatabase } from '../../src/database.js';
import { createHub } from '../../src/live/hub.js';

export const OPERATOR_TOKEN = 'operator-test-token-0123456789-abcdefghijklmn';
/** What the storefront's configuration requires besides its own settings (no issuer is asked). */
export const REQUIRED = Object.freeze({
  REGISTRY_TOKEN: randomSecret(),
  AUTH_ISSUER: 'http://127.0.0.1:8080',
  AUTH_CLIENT_SECRET: randomSecret(),
  SESSION_SECRET: randomSecret(),
});
export const logger = createLogger({ service: 'storefront-test', level: 'silent' });
export const contracts = loadContracts();

/** @returns {Promise<{app, base: string, deadLetters: DeadLetters, stop: () => Promise<void>}>} */
export async function startStorefront({ brokers }) {
  const config = loadConfig({ ...REQUIRED, LOG_LEVEL: 'silent', OPERATOR_TOKEN });
  const deadLetters = DeadLetters.fromContracts({ brokers, logger, contracts });
  const app = createApp({
    config,
    logger,
    db: openStorefrontDatabase(':memory:'),
    readiness: {},
    backends: { languageOf: () => 'node' },
    hub: createHub(),
    monitor: { subscribe: () => () => {} },
    deadLetters,
  });
  const server = await startWebServer(app);
  return {
    app,
    base: `http://127.0.0.1:${server.address().port}`,
    deadLetters,
    stop: async () => {
      await stopWebServer(server);
      await deadLetters.close();
    },
  };
}

/** A browser on the system view: its cookie, and the CSRF token of the page's forms. */
export async function openSystemView(base, cookie) {
  const page = await fetch(`${base}/system`, { headers: cookie ? { cookie } : {} });
  const html = await page.text();
  const set = page.headers.get('set-cookie');
  return {
    cookie: set ? set.split(';')[0] : cookie,
    csrf: /name="_csrf" value="([^"]+)"/.exec(html)[1],
    html,
  };
}

/** Posts a form as a browser does, not following the redirect. */
export function postForm(base, path, cookie, form) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams(form),
  });
}

/** A port where nothing listens (it was free a moment ago). */
export function closedPort() {
  return new Promise((resolve) => {
    const spare = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = spare.address();
      spare.close(() => resolve(port));
    });
  });
}

/**
 * An event stream read as a browser's EventSource reads it: `until` waits,
 * with a deadline, for the events received so far to hold what is looked
 * for; `close` ends the connection, as a closed tab does. (A fetch aborted
 * mid-body may keep its socket open, and the server waits for it.)
 * @returns {Promise<{events: {event: string, data: object}[], until: Function, close: () => void}>}
 */
export async function followEvents(url, headers = {}) {
  const request = http.get(url, { headers: { ...headers, accept: 'text/event-stream' } });
  const [answer] = await once(request, 'response');
  if (answer.statusCode !== 200) {
    request.destroy();
    throw new Error(`${url} answered ${answer.statusCode}`);
  }
  answer.setEncoding('utf8');
  const events = [];
  let buffer = '';
  const waiting = new Set();
  answer.on('data', (chunk) => {
    const blocks = (buffer + chunk).split('\n\n');
    buffer = blocks.pop();
    for (const block of blocks) {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
    for (const check of waiting) check();
  });
  function until(found, { timeoutMs = 5000, what = 'the events looked for' } = {}) {
    return new Promise((resolve, reject) => {
      const done = (error) => {
        clearTimeout(timer);
        waiting.delete(check);
        return error ? reject(error) : resolve(events);
      };
      const check = () => found(events) && done();
      const timer = setTimeout(() => done(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
      waiting.add(check);
      check();
    });
  }
  return { events, until, close: () => request.destroy() };
}
