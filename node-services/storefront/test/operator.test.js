/**
 * The operator API and the system view's redrive, over HTTP, where no
 * broker is needed: who may call, what is refused before Kafka is asked,
 * and what a caller gets while Kafka cannot be reached (the dead letters
 * point at a port where nothing listens). With a broker: integration/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '@polyshop/common';
import { expressOperations, openapiOperations } from '@polyshop/common/testing';
import { DEVELOPMENT_OPERATOR_TOKEN, loadConfig } from '../src/config.js';
import {
  closedPort, contracts, OPERATOR_TOKEN, openSystemView, postForm, startStorefront,
} from './support/storefront.js';

const PROBLEM = 'application/problem+json; charset=utf-8';
const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };
let storefront;
let base;

before(async () => {
  storefront = await startStorefront({ brokers: [`127.0.0.1:${await closedPort()}`] });
  ({ base } = storefront);
});

after(() => storefront.stop());

const get = (path, headers = operator) => fetch(`${base}${path}`, { headers });
const redrive = (id, body, headers = operator) => fetch(
  `${base}/operator/dead-letters/${encodeURIComponent(id)}/redrive`,
  { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) },
);

describe('the operator API', () => {
  const refused = {
    'no Authorization header': {},
    'another scheme': { authorization: `Basic ${OPERATOR_TOKEN}` },
    'a wrong token': { authorization: 'Bearer not-the-token' },
    'the token cut short': { authorization: `Bearer ${OPERATOR_TOKEN.slice(0, -1)}` },
  };
  for (const [what, headers] of Object.entries(refused)) {
    test(`when ${what} comes, then it is 401 problem JSON`, async () => {
      const answer = await get('/operator/dead-letters', headers);
      assert.equal(answer.status, 401);
      assert.equal(answer.headers.get('content-type'), PROBLEM);
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="polyshop-operator"');
      const redriven = await redrive('orders.dlq/0/0', {}, headers);
      assert.equal(redriven.status, 401);
    });
  }

  test('when the id is not DLQTOPIC/PARTITION/OFFSET, then it is 400', async () => {
    const answer = await get(`/operator/dead-letters/${encodeURIComponent('orders.dlq/zero')}`);
    assert.equal(answer.status, 400);
    assert.match((await answer.json()).detail, /DLQTOPIC\/PARTITION\/OFFSET/);
  });

  for (const limit of ['0', '1001', 'ten', '2.5', '-1']) {
    test(`when the limit is "${limit}", then it is 400`, async () => {
      assert.equal((await get(`/operator/dead-letters?limit=${limit}`)).status, 400);
    });
  }

  const badBodies = {
    'an unknown field': { to: 'orders', force: true },
    'again not a boolean': { again: 'yes' },
    'an empty topic': { to: '' },
    'not an object': ['orders'],
  };
  for (const [what, body] of Object.entries(badBodies)) {
    test(`when a redrive comes with ${what}, then it is 400`, async () => {
      const answer = await redrive('orders.dlq/0/0', body);
      assert.equal(answer.status, 400);
      assert.equal(answer.headers.get('content-type'), PROBLEM);
    });
  }

  test('when Kafka cannot be reached, then it is 503 with Retry-After', async () => {
    for (const answer of [await get('/operator/dead-letters'), await redrive('orders.dlq/0/0', {})]) {
      assert.equal(answer.status, 503);
      assert.equal(answer.headers.get('retry-after'), '2');
      assert.match((await answer.json()).detail, /no Kafka broker answers/);
    }
  });

  test('when a browser asks for a path it does not have, then it is still problem JSON', async () => {
    const answer = await get('/operator/dead-letters/orders.dlq/1/0', { ...operator, accept: 'text/html' });
    assert.equal(answer.status, 404);
    assert.equal(answer.headers.get('content-type'), PROBLEM);
    assert.match((await answer.json()).detail, /URL-encode the id/);
  });

  test('when a POST comes with a bearer token and no CSRF token, then it is not refused as a form', async () => {
    const answer = await redrive('orders.dlq/0/0', {});
    assert.notEqual(answer.status, 403);
    assert.equal(answer.headers.get('set-cookie'), null, 'no session for an API call');
  });

  test('when the routes are compared with contracts/openapi/storefront-operator.yaml, then they match', () => {
    const own = expressOperations(storefront.app).filter((operation) => operation.includes(' /operator/'));
    const file = join(contracts.dir, 'openapi', 'storefront-operator.yaml');
    assert.deepEqual(own, openapiOperations(file));
  });
});

describe('the operator token setting', () => {
  test('when NODE_ENV is production and OPERATOR_TOKEN is not set, then the storefront does not start', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 's' }), (error) => (
      error instanceof ConfigError && error.problems.includes('OPERATOR_TOKEN: required when NODE_ENV=production')));
    assert.equal(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 's', OPERATOR_TOKEN: 't' }).operatorToken, 't');
  });

  test('when NODE_ENV is not production, then a development token stands in', () => {
    assert.equal(loadConfig({}).operatorToken, DEVELOPMENT_OPERATOR_TOKEN);
  });
});

describe('the system view for an operator', () => {
  test('when a visitor opens it, then it offers the operator sign-in and no redrive form', async () => {
    const { html } = await openSystemView(base);
    assert.match(html, /<label for="operator-token">Operator token<\/label>/);
    assert.doesNotMatch(html, /id="redrive-form"/);
  });

  test('when a wrong operator token is given, then the form says so next to the field with 401', async () => {
    const { cookie, csrf } = await openSystemView(base);
    const answer = await postForm(base, '/system/operator', cookie, { _csrf: csrf, token: 'wrong' });
    assert.equal(answer.status, 401);
    const html = await answer.text();
    assert.match(html, /aria-describedby="operator-token-error"/);
    assert.match(html, /id="operator-token-error" role="alert">That is not the operator token\./);
  });

  test('when the operator token is given, then the session id changes and the page has the redrive form, not the token', async () => {
    const { cookie, csrf } = await openSystemView(base);
    const answer = await postForm(base, '/system/operator', cookie, { _csrf: csrf, token: OPERATOR_TOKEN });
    assert.equal(answer.status, 303);
    assert.equal(answer.headers.get('location'), '/system#operator');
    const renewed = answer.headers.get('set-cookie').split(';')[0];
    assert.notEqual(renewed, cookie);
    const { html } = await openSystemView(base, renewed);
    assert.match(html, /<template id="redrive-form">/);
    assert.doesNotMatch(html, new RegExp(OPERATOR_TOKEN));
  });

  test('when a visitor posts a redrive, then it is refused with 403', async () => {
    const { cookie, csrf } = await openSystemView(base);
    const answer = await postForm(base, '/system/dead-letters/redrive', cookie, { _csrf: csrf, letter: 'orders.dlq/0/0' });
    assert.equal(answer.status, 403);
  });

  test('when a redrive form comes without its CSRF token, then it is refused with 403', async () => {
    const { cookie } = await signedInOperator();
    const answer = await postForm(base, '/system/dead-letters/redrive', cookie, { letter: 'orders.dlq/0/0' });
    assert.equal(answer.status, 403);
  });

  test('when an operator redrives while Kafka is away, then the page says so', async () => {
    const { cookie, csrf } = await signedInOperator();
    const answer = await postForm(base, '/system/dead-letters/redrive', cookie, { _csrf: csrf, letter: 'orders.dlq/0/0' });
    assert.equal(answer.status, 303);
    const { html } = await openSystemView(base, cookie);
    assert.match(html, /id="redrive-result"[^>]*>\s*<p>no Kafka broker answers at/);
    assert.doesNotMatch((await openSystemView(base, cookie)).html, /redrive-result/, 'said once');
  });

  test('when the operator stops, then the redrive form is gone', async () => {
    const { cookie, csrf } = await signedInOperator();
    await postForm(base, '/system/operator/sign-out', cookie, { _csrf: csrf });
    assert.doesNotMatch((await openSystemView(base, cookie)).html, /id="redrive-form"/);
  });
});

async function signedInOperator() {
  const { cookie, csrf } = await openSystemView(base);
  const answer = await postForm(base, '/system/operator', cookie, { _csrf: csrf, token: OPERATOR_TOKEN });
  return openSystemView(base, answer.headers.get('set-cookie').split(';')[0]);
}
