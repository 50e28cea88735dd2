/**
 * The settings every Node.js service reads from its environment, with the
 * defaults that make `make up` work (docs/saga.md, "Data and
 * configuration"). A service's own `config.js` calls `readServiceConfig`
 * and adds its own settings; nothing else reads `process.env`.
 *
 * Every problem is reported at once, and start-up stops on any of them.
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { findContractsDir, readTopics } from './events.js';
import { brokersFromEnv } from './kafka.js';
import { DEFAULT_RETRY_DELAYS, parseRetryDelays } from './retries.js';

const WILDCARD_HOSTS = ['0.0.0.0', '::'];
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const DEFAULT_REGISTRY = 'http://127.0.0.1:8761';
const DEFAULT_KAFKA = '127.0.0.1:9092';

export class ConfigError extends Error {
  constructor(problems) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * @param {Record<string, string|undefined>} env usually process.env
 * @param {{service: string, defaultPort: number}} piece
 * @returns {Readonly<object>} port, host, advertisedHost, registryUrl, registryToken,
 *   kafkaBrokers, dataDir, databasePath, jwtSecret, logLevel, contractsDir,
 *   consumerRetryDelays (CONSUMER_RETRY_DELAYS: seconds before attempts 2, 3, ...
 *   of a failed event, default 1,10,60; "none" for no retries)
 */
export function readServiceConfig(env, { service, defaultPort }) {
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
  const retryLevels = attempt('CONTRACTS_DIR', () => (
    readTopics(contractsDir ?? findContractsDir()).retry_levels
  ));
  const config = {
    service,
    port: attempt('PORT', () => port(read('PORT', String(defaultPort)))),
    host,
    advertisedHost: read('ADVERTISED_HOST', defaultAdvertised(host)),
    registryUrl: attempt('REGISTRY_URL', () => httpUrl(read('REGISTRY_URL', DEFAULT_REGISTRY))),
    registryToken: read('REGISTRY_TOKEN', 'polyshop-dev-token'),
    kafkaBrokers: attempt('KAFKA_BOOTSTRAP_SERVERS', () => (
      brokersFromEnv(read('KAFKA_BOOTSTRAP_SERVERS', DEFAULT_KAFKA))
    )),
    dataDir,
    databasePath: join(dataDir, `${service}.db`),
    jwtSecret: read('JWT_SECRET', 'polyshop-dev-secret-not-for-production'),
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

function oneOf(value, allowed) {
  if (!allowed.includes(value)) throw new Error(`"${value}" is not one of ${allowed.join(', ')}`);
  return value;
}
