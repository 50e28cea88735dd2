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
import { loadConfig } from '../src/config.js';
import {
  closedPort, contracts, OPERATOR_TOKEN, openSystemView, postForm, REQUIRED, startStorefront,
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
  `${base}/operator/dead-letters/${id}/redrive`,
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

  const badIds = {
    'a partition not a number': 'orders.dlq/zero/0',
    'a negative offset': 'orders.dlq/0/-1',
    'a fractional offset': 'orders.dlq/0/1.5',
    'a topic hiding a slash': 'orders%2Fdlq/0/0',
  };
  for (const [what, id] of Object.entries(badIds)) {
    test(`when the path names ${what}, then reading or redriving it is 400`, async () => {
      for (const answer of [await get(`/operator/dead-letters/${id}`), await redrive(id, {})]) {
        assert.equal(answer.status, 400);
        assert.equal(answer.headers.get('content-type'), PROBLEM);
        assert.match((await answer.json()).detail, /is not a dead letter's id: DLQTOPIC\/PARTITION\/OFFSET/);
      }
    });
  }

  test('when the id comes URL-encoded in one segment, then it is 404 naming the three-segment path', async () => {
    const old = encodeURIComponent('orders.dlq/1/0');
    for (const answer of [await get(`/operator/dead-letters/${old}`), await redrive(old, {})]) {
      assert.equal(answer.status, 404);
      assert.equal(answer.headers.get('content-type'), PROBLEM);
      const { detail } = await answer.json();
      assert.match(detail, /a dead letter is \/operator\/dead-letters\/DLQTOPIC\/PARTITION\/OFFSET$/);
      assert.doesNotMatch(detail, /URL-encode/);
    }
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
    const answer = await get('/operator/dead-letters/orders.dlq/1/0/headers', { ...operator, accept: 'text/html' });
    assert.equal(answer.status, 404);
    assert.equal(answer.headers.get('content-type'), PROBLEM);
    assert.match((await answer.json()).detail, /^no route for GET \/operator\/dead-letters\/orders.dlq\/1\/0\/headers/);
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

describe('the operator token and session secret settings', () => {
  const problemsOf = (env) => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems;
    }
  };

  test('when OPERATOR_TOKEN is not set outside development mode, then the storefront does not start', () => {
    assert.deepEqual(problemsOf(REQUIRED), ['OPERATOR_TOKEN: required (set OPERATOR_TOKEN or OPERATOR_TOKEN_FILE)']);
    assert.equal(loadConfig({ ...REQUIRED, OPERATOR_TOKEN }).operatorToken, OPERATOR_TOKEN);
  });

  test('when SESSION_SECRET is not set outside development mode, then the storefront does not start', () => {
    assert.deepEqual(problemsOf({ ...REQUIRED, SESSION_SECRET: undefined, OPERATOR_TOKEN }), ['SESSION_SECRET: required (set SESSION_SECRET or SESSION_SECRET_FILE)']);
  });

  test('when either is shorter than 32 bytes outside development mode, then it is refused', () => {
    const problems = problemsOf({ ...REQUIRED, SESSION_SECRET: 'short', OPERATOR_TOKEN: 'short' });
    assert.deepEqual(problems.map((problem) => problem.split(':')[0]), ['SESSION_SECRET', 'OPERATOR_TOKEN']);
  });

  test('when neither is set in development mode, then each process makes up its own and says so', () => {
    const env = { ...REQUIRED, SESSION_SECRET: undefined, POLYSHOP_MODE: 'development' };
    const [one, two] = [loadConfig(env), loadConfig(env)];
    assert.deepEqual(one.generatedSecrets, ['SESSION_SECRET', 'OPERATOR_TOKEN']);
    assert.notEqual(one.operatorToken, two.operatorToken);
    assert.notEqual(one.sessionSecret, two.sessionSecret);
    assert.ok(Buffer.byteLength(one.operatorToken) >= 32);
  });

  test('when they are set in development mode, then they are used as given', () => {
    const config = loadConfig({ ...REQUIRED, POLYSHOP_MODE: 'development', OPERATOR_TOKEN: 'op' });
    assert.equal(config.operatorToken, 'op');
    assert.deepEqual(config.generatedSecrets, []);
  });

  test('when the storefront has no client secret for the gateway, then it does not start', () => {
    assert.deepEqual(problemsOf({ ...REQUIRED, AUTH_CLIENT_SECRET: undefined, OPERATOR_TOKEN }).map((problem) => problem.split(':')[0]), ['AUTH_CLIENT_SECRET']);
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
