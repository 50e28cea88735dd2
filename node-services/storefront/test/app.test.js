import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger, startWebServer, stopWebServer } from '@polyshop/common';
import { createApp } from '../src/app.js';
import { LoginRefused } from '../src/backends.js';
import { loadConfig } from '../src/config.js';
import { openStorefrontDatabase } from '../src/database.js';
import { createHub } from '../src/live/hub.js';
import { OPERATOR_TOKEN, REQUIRED } from './support/storefront.js';

// A unit test of the HTTP module: the services behind it are stand-ins here
// (the browser tests in e2e-tests/storefront use the real ones).
const backends = {
  languageOf: () => 'node',
  products: async () => [{ sku: 'TEA', name: 'Tea', price_cents: 650, currency: 'EUR' }],
  product: async () => ({ sku: 'TEA', name: 'Tea', price_cents: 650, currency: 'EUR' }),
  stock: async () => [{ sku: 'TEA', available: 3, reserved: 0 }],
  login: async (username, password) => {
    if (password !== 'wonderland') throw new LoginRefused();
    return { token: 'header.payload.signature', expiresIn: 3600 };
  },
};

describe('the storefront app', () => {
  let server;
  let base;

  before(async () => {
    const config = loadConfig({ ...REQUIRED, OPERATOR_TOKEN, LOG_LEVEL: 'silent' });
    const app = createApp({
      config,
      logger: createLogger({ service: 'storefront', level: 'silent' }),
      db: openStorefrontDatabase(':memory:'),
      readiness: {},
      backends,
      hub: createHub(),
      monitor: { subscribe: () => () => {} },
    });
    server = await startWebServer(app);
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(() => stopWebServer(server));

  async function loginForm() {
    const page = await fetch(`${base}/login`);
    const cookie = page.headers.get('set-cookie').split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())[1];
    return { cookie, csrf };
  }

  const post = (path, cookie, form, headers = {}) => fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });

  test('when the right password is sent with the CSRF token, then a new session id is set', async () => {
    const { cookie, csrf } = await loginForm();
    const answer = await post('/login', cookie, { _csrf: csrf, username: 'alice', password: 'wonderland' });
    assert.equal(answer.status, 303);
    const renewed = answer.headers.get('set-cookie');
    assert.match(renewed, /HttpOnly/);
    assert.match(renewed, /SameSite=Strict/);
    assert.notEqual(renewed.split(';')[0], cookie, 'the session id changes at log-in');
  });

  test('when a wrong password is sent, then the form says so with 401', async () => {
    const { cookie, csrf } = await loginForm();
    const answer = await post('/login', cookie, { _csrf: csrf, username: 'alice', password: 'nope' });
    assert.equal(answer.status, 401);
    assert.match(await answer.text(), /Unknown user name or wrong password/);
  });

  test('when a form comes without its CSRF token, then it is refused with a problem', async () => {
    const { cookie } = await loginForm();
    const answer = await post('/cart', cookie, { sku: 'TEA', quantity: '1' }, { accept: 'application/json' });
    assert.equal(answer.status, 403);
    assert.equal(answer.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  });

  test('when next points to another site, then the log-in leads home instead', async () => {
    const { cookie, csrf } = await loginForm();
    const answer = await post('/login', cookie, {
      _csrf: csrf, username: 'alice', password: 'wonderland', next: '//evil.example/',
    });
    assert.equal(answer.headers.get('location'), '/');
  });

  test('when the orders page is asked for without a session, then it leads to the log-in', async () => {
    const answer = await fetch(`${base}/orders`, { redirect: 'manual' });
    assert.equal(answer.status, 303);
    assert.equal(answer.headers.get('location'), '/login?next=%2Forders');
  });
});
