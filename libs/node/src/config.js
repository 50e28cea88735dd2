/**
 * The settings every Node.js service reads from its environment, with the
 * defaults that make `make up` work (docs/saga.md, "Data and
 * configuration"). A service's own `config.js` calls `readServiceConfig`
 * and adds its own settings; nothing else reads `process.env`.
 *
 * Every problem is reported at once, and start-up stops on any of them.
 *
 * POLYSHOP_MODE is `production` unless set to `development`. Secrets have no
 * default in either mode (make up and the tests generate their own), and
 * outside development a secret shorter than the contract's min_secret_bytes
 * is refused: a default or a guessable value must never protect a real shop.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { findContractsDir, readAuthContract, readTopics } from './events.js';
import { brokersFromEnv } from './kafka.js';
import { DEFAULT_RETRY_DELAYS, parseRetryDelays } from './retries.js';

const WILDCARD_HOSTS = ['0.0.0.0', '::'];
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const DEFAULT_REGISTRY = 'http://127.0.0.1:8761';
const DEFAULT_KAFKA = '127.0.0.1:9092';
// Where the gateway listens under make up; only development mode assumes it.
const DEVELOPMENT_ISSUER = 'http://127.0.0.1:8080';
export const MODES = ['production', 'development'];

export class ConfigError extends Error {
  constructor(problems) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * @param {Record<string, string|undefined>} env usually process.env
 * @param {{service: string, defaultPort: number, callsServices?: boolean}} piece
 *   callsServices: it asks the gateway for service tokens, so AUTH_CLIENT_SECRET is required
 * @returns {Readonly<object>} service, mode, port, host, advertisedHost, registryUrl,
 *   registryToken, authIssuer, authClientSecret (undefined when not given), auth (the
 *   numbers of contracts/auth.json), minSecretBytes, kafkaBrokers, dataDir, databasePath,
 *   logLevel, contractsDir, consumerRetryDelays (CONSUMER_RETRY_DELAYS: seconds before
 *   attempts 2, 3, ... of a failed event, default 1,10,60; "none" for no retries)
 */
export function readServiceConfig(env, { service, defaultPort, callsServices = false }) {
  const problems = [];
  const read = (name, fallback) => (env[name] ? env[name] : fallback);
  const attempt = (name, parse) => {
    try {
      return parse();
    } catch (error) {
      problems.push(`${name}: ${error.message}`);
      return undefined;
    }
  };
  const dataDir = resolve(read('DATA_DIR', '.run/data'));
  const host = read('HOST', '127.0.0.1');
  const contractsDir = env.CONTRACTS_DIR ? resolve(env.CONTRACTS_DIR) : undefined;
  const { retryLevels, auth } = attempt('CONTRACTS_DIR', () => {
    const dir = contractsDir ?? findContractsDir();
    return { retryLevels: readTopics(dir).retry_levels, auth: readAuthContract(dir) };
  }) ?? {};
  const mode = attempt('POLYSHOP_MODE', () => oneOf(read('POLYSHOP_MODE', 'production'), MODES));
  const development = mode === 'development';
  const rules = { mode, minBytes: auth?.min_secret_bytes };
  const secret = (name, isRequired) => attempt(name, () => (
    readSecret(env, name, { ...rules, required: isRequired })
  ));
  const config = {
    service,
    mode,
    port: attempt('PORT', () => port(read('PORT', String(defaultPort)))),
    host,
    advertisedHost: read('ADVERTISED_HOST', defaultAdvertised(host)),
    registryUrl: attempt('REGISTRY_URL', () => httpUrls(read('REGISTRY_URL', DEFAULT_REGISTRY))),
    registryToken: secret('REGISTRY_TOKEN', true),
    authIssuer: attempt('AUTH_ISSUER', () => issuerUrl(read('AUTH_ISSUER'), development)),
    authClientSecret: secret('AUTH_CLIENT_SECRET', callsServices),
    auth,
    minSecretBytes: auth?.min_secret_bytes,
    kafkaBrokers: attempt('KAFKA_BOOTSTRAP_SERVERS', () => (
      brokersFromEnv(read('KAFKA_BOOTSTRAP_SERVERS', DEFAULT_KAFKA))
    )),
    dataDir,
    databasePath: join(dataDir, `${service}.db`),
    logLevel: attempt('LOG_LEVEL', () => oneOf(read('LOG_LEVEL', 'info').toLowerCase(), LOG_LEVELS)),
    contractsDir,
    consumerRetryDelays: attempt('CONSUMER_RETRY_DELAYS', () => (
      retryDelays(read('CONSUMER_RETRY_DELAYS', DEFAULT_RETRY_DELAYS.join(',')), retryLevels)
    )),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * A secret: the value of env NAME, or the content of the file NAME_FILE
 * names (trailing whitespace stripped: editors and `echo` add a newline).
 * A file keeps the secret out of `ps`, `docker inspect` and crash dumps of
 * the environment; compose and Kubernetes mount secrets as files.
 *
 * @param {Record<string, string|undefined>} env
 * @param {string} name e.g. 'REGISTRY_TOKEN'
 * @param {object} rules
 * @param {string} rules.mode POLYSHOP_MODE; only `development` accepts a short secret
 * @param {number} rules.minBytes contracts/auth.json's min_secret_bytes
 * @param {boolean} [rules.required] a missing one is an error, else undefined
 * @returns {string|undefined}
 * @throws {Error} saying what is wrong, without the value (the caller names the variable)
 */
export function readSecret(env, name, { mode, minBytes, required = true }) {
  const fileName = `${name}_FILE`;
  if (env[name] && env[fileName]) throw new Error(`both ${name} and ${fileName} are set; set one`);
  let value = env[name];
  if (env[fileName]) {
    try {
      value = readFileSync(env[fileName], 'utf8').trimEnd();
    } catch (error) {
      throw new Error(`${fileName} names a file that cannot be read (${error.code ?? error.message})`);
    }
    if (!value) throw new Error(`${fileName} names an empty file`);
  }
  if (!value) {
    if (required) throw new Error(`required (set ${name} or ${fileName})`);
    return undefined;
  }
  if (mode !== 'development' && Buffer.byteLength(value) < minBytes) {
    throw new Error(`shorter than ${minBytes} bytes; a longer secret is required outside development mode`);
  }
  return value;
}

/**
 * The address others reach this instance at, when ADVERTISED_HOST is unset.
 * Listening on every interface (in a container) makes loopback useless to
 * others; the host name is what a container network resolves, and it
 * differs between replicas of one service.
 */
function defaultAdvertised(host) {
  return WILDCARD_HOSTS.includes(host) ? hostname() : host;
}

// A delay needs a retry topic to carry it, and the contract says how many
// each topic has (unknown when the contracts cannot be read: that problem is
// reported on its own).
function retryDelays(value, levels = Infinity) {
  return Object.freeze(parseRetryDelays(value, levels));
}

function port(value) {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535) {
    throw new Error(`"${value}" is not a port (0-65535)`);
  }
  return number;
}

function httpUrl(value) {
  const url = new URL(value);
  if (!['http:', 'https:'].includes(url.protocol)) {
    throw new Error(`"${value}" is not an http(s) URL`);
  }
  return value.replace(/\/+$/, '');
}

/** One URL, or several separated by commas (registries side by side), each checked. */
function httpUrls(value) {
  return value.split(',').map((url) => httpUrl(url.trim())).join(',');
}

// The issuer is the tokens' `iss`: a default elsewhere than on a developer's
// machine would trust whatever answers at that address.
function issuerUrl(value, development) {
  if (!value && !development) {
    throw new Error(`required outside development mode (the gateway's URL, e.g. ${DEVELOPMENT_ISSUER})`);
  }
  return httpUrl(value ?? DEVELOPMENT_ISSUER);
}

function oneOf(value, allowed) {
  if (!allowed.includes(value)) throw new Error(`"${value}" is not one of ${allowed.join(', ')}`);
  return value;
}
