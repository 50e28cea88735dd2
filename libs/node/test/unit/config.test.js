import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ConfigError, readServiceConfig } from '../../src/config.js';

const piece = { service: 'inventory', defaultPort: 3001 };

test('when the environment is empty, then the make-up defaults apply', () => {
  const config = readServiceConfig({}, piece);
  assert.equal(config.port, 3001);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.advertisedHost, '127.0.0.1');
  assert.equal(config.registryUrl, 'http://127.0.0.1:8761');
  assert.deepEqual(config.kafkaBrokers, ['127.0.0.1:9092']);
  assert.equal(config.databasePath, resolve('.run/data/inventory.db'));
  assert.equal(config.jwtSecret, 'polyshop-dev-secret-not-for-production');
  assert.equal(config.logLevel, 'info');
  assert.ok(Object.isFrozen(config));
});

test('when values are set, then they win over the defaults', () => {
  const config = readServiceConfig({
    PORT: '4001', DATA_DIR: '/tmp/x', KAFKA_BOOTSTRAP_SERVERS: 'a:1,b:2', LOG_LEVEL: 'debug',
    REGISTRY_URL: 'http://registry:8761/',
  }, piece);
  assert.equal(config.port, 4001);
  assert.equal(config.databasePath, '/tmp/x/inventory.db');
  assert.deepEqual(config.kafkaBrokers, ['a:1', 'b:2']);
  assert.equal(config.registryUrl, 'http://registry:8761');
});

test('when several values are wrong, then one error lists them all', () => {
  assert.throws(
    () => readServiceConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', REGISTRY_URL: 'nope' }, piece),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((problem) => problem.split(':')[0]), [
        'PORT', 'REGISTRY_URL', 'LOG_LEVEL',
      ]);
      return true;
    },
  );
});

test('when HOST listens on every interface and ADVERTISED_HOST is unset, then the host name is advertised', async () => {
  const { hostname } = await import('node:os');
  const config = readServiceConfig({ HOST: '0.0.0.0' }, { service: 'inventory', defaultPort: 3001 });
  assert.equal(config.advertisedHost, hostname());
});

test('when LOG_LEVEL is upper case, then it is accepted as pino spells it', () => {
  const config = readServiceConfig({ LOG_LEVEL: 'INFO' }, { service: 'inventory', defaultPort: 3001 });
  assert.equal(config.logLevel, 'info');
});

test('when CONSUMER_RETRY_DELAYS is unset, then the delays are 1, 10 and 60 seconds', () => {
  assert.deepEqual(readServiceConfig({}, piece).consumerRetryDelays, [1, 10, 60]);
});

test('when CONSUMER_RETRY_DELAYS is set, then its delays or none apply', () => {
  assert.deepEqual(readServiceConfig({ CONSUMER_RETRY_DELAYS: '0.5,5' }, piece).consumerRetryDelays, [0.5, 5]);
  assert.deepEqual(readServiceConfig({ CONSUMER_RETRY_DELAYS: 'none' }, piece).consumerRetryDelays, []);
});

for (const value of ['1,10,60,600', '1,ten', '-1']) {
  test(`when CONSUMER_RETRY_DELAYS is "${value}", then start-up stops naming it`, () => {
    assert.throws(() => readServiceConfig({ CONSUMER_RETRY_DELAYS: value }, piece), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((problem) => problem.split(':')[0]), ['CONSUMER_RETRY_DELAYS']);
      return true;
    });
  });
}
