import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, readSecret, readServiceConfig } from '../../src/config.js';

const piece = { service: 'inventory', defaultPort: 3001 };
const SECRET = 's'.repeat(32);
// What a service needs in production mode, the default.
const REQUIRED = { REGISTRY_TOKEN: SECRET, AUTH_ISSUER: 'http://gateway:8080' };

/** The names of the variables a ConfigError is about, in its order. */
function problemsOf(env, of = piece) {
  try {
    readServiceConfig(env, of);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems.map((problem) => problem.split(':')[0]);
  }
  return [];
}

test('when only the required settings are given, then the make-up defaults apply to the rest', () => {
  const config = readServiceConfig(REQUIRED, piece);
  assert.equal(config.mode, 'production');
  assert.equal(config.port, 3001);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.advertisedHost, '127.0.0.1');
  assert.equal(config.registryUrl, 'http://127.0.0.1:8761');
  assert.deepEqual(config.kafkaBrokers, ['127.0.0.1:9092']);
  assert.equal(config.databasePath, resolve('.run/data/inventory.db'));
  assert.equal(config.logLevel, 'info');
  assert.equal(config.registryToken, SECRET);
  assert.equal(config.authIssuer, 'http://gateway:8080');
  assert.equal(config.authClientSecret, undefined);
  assert.equal(config.minSecretBytes, 32);
  assert.equal(config.auth.algorithm, 'EdDSA');
  assert.equal('jwtSecret' in config, false);
  assert.ok(Object.isFrozen(config));
});

test('when values are set, then they win over the defaults', () => {
  const config = readServiceConfig({
    ...REQUIRED,
    PORT: '4001', DATA_DIR: '/tmp/x', KAFKA_BOOTSTRAP_SERVERS: 'a:1,b:2', LOG_LEVEL: 'debug',
    REGISTRY_URL: 'http://registry:8761/',
  }, piece);
  assert.equal(config.port, 4001);
  assert.equal(config.databasePath, '/tmp/x/inventory.db');
  assert.deepEqual(config.kafkaBrokers, ['a:1', 'b:2']);
  assert.equal(config.registryUrl, 'http://registry:8761');
});

test('when REGISTRY_URL names several registries, then each is checked, as in Python', () => {
  const both = readServiceConfig(
    { ...REQUIRED, REGISTRY_URL: 'http://registry-0:8761/, http://registry-1:8761' }, piece,
  );
  assert.equal(both.registryUrl, 'http://registry-0:8761,http://registry-1:8761');
  assert.throws(
    () => readServiceConfig({ ...REQUIRED, REGISTRY_URL: 'http://registry-0:8761,registry-1:8761' }, piece),
    (error) => error instanceof ConfigError && error.problems[0].startsWith('REGISTRY_URL'),
  );
});

test('when several values are wrong, then one error lists them all', () => {
  assert.throws(
    () => readServiceConfig({ ...REQUIRED, PORT: 'eighty', LOG_LEVEL: 'loud', REGISTRY_URL: 'nope' }, piece),
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
  const config = readServiceConfig({ ...REQUIRED, HOST: '0.0.0.0' }, { service: 'inventory', defaultPort: 3001 });
  assert.equal(config.advertisedHost, hostname());
});

test('when LOG_LEVEL is upper case, then it is accepted as pino spells it', () => {
  const config = readServiceConfig({ ...REQUIRED, LOG_LEVEL: 'INFO' }, { service: 'inventory', defaultPort: 3001 });
  assert.equal(config.logLevel, 'info');
});

test('when CONSUMER_RETRY_DELAYS is unset, then the delays are 1, 10 and 60 seconds', () => {
  assert.deepEqual(readServiceConfig(REQUIRED, piece).consumerRetryDelays, [1, 10, 60]);
});

test('when CONSUMER_RETRY_DELAYS is set, then its delays or none apply', () => {
  assert.deepEqual(readServiceConfig({ ...REQUIRED, CONSUMER_RETRY_DELAYS: '0.5,5' }, piece).consumerRetryDelays, [0.5, 5]);
  assert.deepEqual(readServiceConfig({ ...REQUIRED, CONSUMER_RETRY_DELAYS: 'none' }, piece).consumerRetryDelays, []);
});

for (const value of ['1,10,60,600', '1,ten', '-1']) {
  test(`when CONSUMER_RETRY_DELAYS is "${value}", then start-up stops naming it`, () => {
    assert.throws(() => readServiceConfig({ ...REQUIRED, CONSUMER_RETRY_DELAYS: value }, piece), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((problem) => problem.split(':')[0]), ['CONSUMER_RETRY_DELAYS']);
      return true;
    });
  });
}

describe('modes and secrets', () => {
  const folder = mkdtempSync(join(tmpdir(), 'config-test-'));
  after(() => rmSync(folder, { recursive: true, force: true }));
  const file = (name, content) => {
    const path = join(folder, name);
    writeFileSync(path, content);
    return path;
  };

  test('when nothing is set, then the registry token and the issuer are missing, each named', () => {
    assert.deepEqual(problemsOf({}), ['REGISTRY_TOKEN', 'AUTH_ISSUER']);
  });

  test('when POLYSHOP_MODE is neither production nor development, then start-up stops naming it', () => {
    assert.deepEqual(problemsOf({ ...REQUIRED, POLYSHOP_MODE: 'staging' }), ['POLYSHOP_MODE']);
  });

  test('when in development mode, then the issuer defaults to make up\'s gateway and short secrets pass', () => {
    const config = readServiceConfig({ POLYSHOP_MODE: 'development', REGISTRY_TOKEN: 'dev' }, piece);
    assert.equal(config.mode, 'development');
    assert.equal(config.authIssuer, 'http://127.0.0.1:8080');
    assert.equal(config.registryToken, 'dev');
  });

  test('when in development mode, then a secret is still required', () => {
    assert.deepEqual(problemsOf({ POLYSHOP_MODE: 'development' }), ['REGISTRY_TOKEN']);
  });

  test('when a secret is shorter than 32 bytes outside development, then it is refused', () => {
    assert.deepEqual(problemsOf({ ...REQUIRED, REGISTRY_TOKEN: 's'.repeat(31) }), ['REGISTRY_TOKEN']);
    assert.deepEqual(problemsOf({ ...REQUIRED, AUTH_CLIENT_SECRET: 'short' }), ['AUTH_CLIENT_SECRET']);
    // Bytes, not characters: 16 two-byte characters are 32 bytes.
    assert.equal(readServiceConfig({ ...REQUIRED, REGISTRY_TOKEN: 'é'.repeat(16) }, piece).registryToken, 'é'.repeat(16));
  });

  test('when a secret comes from NAME_FILE, then its trailing whitespace is stripped', () => {
    const config = readServiceConfig({
      ...REQUIRED, REGISTRY_TOKEN: undefined, REGISTRY_TOKEN_FILE: file('registry', `${SECRET}\n \n`),
    }, piece);
    assert.equal(config.registryToken, SECRET);
  });

  test('when both NAME and NAME_FILE are set, then it is a problem, even if they agree', () => {
    const env = { ...REQUIRED, REGISTRY_TOKEN_FILE: file('both', SECRET) };
    assert.deepEqual(problemsOf(env), ['REGISTRY_TOKEN']);
  });

  test('when NAME_FILE names a missing or empty file, then it is a problem naming the variable', () => {
    for (const path of [join(folder, 'absent'), file('empty', ' \n')]) {
      assert.deepEqual(problemsOf({ ...REQUIRED, REGISTRY_TOKEN: undefined, REGISTRY_TOKEN_FILE: path }), ['REGISTRY_TOKEN']);
    }
  });

  test('when a problem is about a secret, then its value is not in the message', () => {
    const leaked = 'leaked-value';
    assert.throws(() => readServiceConfig({ ...REQUIRED, REGISTRY_TOKEN: leaked }, piece), (error) => (
      !error.message.includes(leaked)));
  });

  test('when a service calls others, then AUTH_CLIENT_SECRET is required', () => {
    const caller = { ...piece, callsServices: true };
    assert.deepEqual(problemsOf(REQUIRED, caller), ['AUTH_CLIENT_SECRET']);
    const config = readServiceConfig({ ...REQUIRED, AUTH_CLIENT_SECRET: SECRET }, caller);
    assert.equal(config.authClientSecret, SECRET);
  });

  test('when AUTH_ISSUER is not an http(s) URL, then it is a problem; a trailing slash is dropped', () => {
    assert.deepEqual(problemsOf({ ...REQUIRED, AUTH_ISSUER: 'gateway:8080' }), ['AUTH_ISSUER']);
    assert.equal(readServiceConfig({ ...REQUIRED, AUTH_ISSUER: 'https://shop.example/' }, piece).authIssuer, 'https://shop.example');
  });

  test('when readSecret is asked for an optional secret that is not set, then it is undefined', () => {
    const rules = { mode: 'production', minBytes: 32 };
    assert.equal(readSecret({}, 'SESSION_SECRET', { ...rules, required: false }), undefined);
    assert.throws(() => readSecret({}, 'SESSION_SECRET', rules), /required \(set SESSION_SECRET or SESSION_SECRET_FILE\)/);
  });
});
