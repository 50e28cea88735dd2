/**
 * The life of a Node.js service, written once: what every service does
 * around its own routes, database and Kafka handlers.
 *
 * `createServiceApp` is the Express app every service has: request metrics
 * and logs, JSON bodies, /livez, /readyz and /metrics, the service's routers,
 * then a 404 and the one error middleware. It builds the app and never listens.
 *
 * `runService` is the whole of a service's server.js. In order, it reads
 * the settings, opens the logger (whose first line, in development mode,
 * says so), the contracts and the database, builds the
 * Kafka producer and the service's workers, listens, registers, and starts
 * the workers. On SIGTERM/SIGINT it stops in the reverse order: stop being
 * ready, leave the registry, close the HTTP server, stop the consumer and
 * then its helpers, disconnect the producer, close the database, and send
 * the spans still buffered (telemetry.js; server.js started it). A stop that
 * fails or outlasts the timeout exits 1, and so does a crash at start-up.
 */
import { setTimeout } from 'node:timers/promises';
import express from 'express';
import { ConfigError } from './config.js';
import { loadContracts } from './events.js';
import {
  healthRouter, injectFaults, jsonBody, notFoundHandler, problemHandler, requestLogger, startWebServer,
  stopWebServer,
} from './http.js';
import { stopFaults, watchFaults } from './faults.js';
import { createKafka, createProducer } from './kafka.js';
import { createLogger } from './logger.js';
import { metricsRouter, requestMetrics } from './metrics.js';
import { RegistryApi } from './registry/api.js';
import { createRegistration } from './registry/registration.js';
import { onShutdown } from './shutdown.js';
import { stopTelemetry } from './telemetry.js';

const SHUTDOWN_TIMEOUT_MS = 15000;
// How long an instance keeps serving after it left the registry, on SIGTERM.
const DRAIN_MS = 500;

/**
 * @param {object} parts
 * @param {import('pino').Logger} parts.logger
 * @param {import('better-sqlite3').Database} parts.db its `open` is the `database` check
 * @param {Record<string, () => boolean>} [parts.readiness] more checks for /readyz
 * @param {(import('express').RequestHandler|[string, import('express').RequestHandler])[]}
 *   [parts.middleware] run before the routers, each a handler or [path, handler]
 *   (a service with pages adds its assets, form parser and sessions here)
 * @param {import('express').Router[]} parts.routers the service's own routes
 * @param {import('express').ErrorRequestHandler} [parts.errorPages] runs before the problem
 *   handler: a service with pages answers a browser with an HTML page there
 */
export function createServiceApp({
  logger, db, readiness = {}, middleware = [], routers, errorPages,
}) {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestMetrics());
  app.use(requestLogger(logger));
  app.use(jsonBody());
  app.use(healthRouter({ database: () => db.open, ...readiness }));
  app.use(metricsRouter());
  app.use(injectFaults);
  for (const step of middleware) app.use(...[step].flat());
  for (const router of routers) app.use(router);
  app.use(notFoundHandler);
  if (errorPages) app.use(errorPages);
  app.use(problemHandler({ logger }));
  return app;
}

/**
 * Starts a service and stops it on SIGTERM/SIGINT. What it is given is what
 * the service alone knows:
 *
 * @param {object} piece
 * @param {string} piece.service its name in the registry, the logs and Kafka
 * @param {() => Readonly<object>} piece.loadConfig its config.js (throws ConfigError)
 * @param {(deps: {config, contracts}) => import('better-sqlite3').Database} piece.openDatabase
 * @param {(deps: {config, logger, contracts, db, api, kafka, producer}) =>
 *   {consumer: {start, stop, isRunning}, helpers?: {start, stop}[], deps?: object}}
 *   piece.createWorkers the Kafka consumer, and what its handlers rely on (an
 *   outbox relay, discovery): helpers start before the consumer, in order, and
 *   stop after it, in reverse; `deps` are handed on to createApp (what its
 *   routes read from the workers)
 * @param {(deps: {config, logger, db, readiness, ...}) => import('express').Express}
 *   piece.createApp
 * @returns {Promise<void>} once it listens and has started registering
 */
export function runService(piece) {
  return start(piece).catch((error) => exitOnStartFailure(piece.service, error));
}

async function start({ service, loadConfig, openDatabase, createWorkers, createApp }) {
  const config = loadConfig();
  const logger = createLogger({ service, level: config.logLevel });
  warnOfDevelopment(config, logger);
  const contracts = loadContracts(config.contractsDir);
  const db = openDatabase({ config, contracts });
  const api = new RegistryApi({ baseUrl: config.registryUrl, token: config.registryToken });
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: service, logger });
  const producer = createProducer(kafka);
  const { consumer, helpers = [], deps = {} } = createWorkers({
    config, logger, contracts, db, api, kafka, producer,
  });

  const state = { stopping: false, registration: null };
  const readiness = readinessOf(state, consumer);
  const app = createApp({ config, logger, db, readiness, ...deps });
  const server = await startWebServer(app, { host: config.host, port: config.port });
  const { port } = server.address();
  logger.info({ host: config.host, port, database: config.databasePath }, 'listening');

  const host = config.advertisedHost;
  await watchFaults({ service, instance: `${host}:${port}`, logger });
  const healthUrl = `http://${host}:${port}/readyz`;
  state.registration = createRegistration({
    api, service, host, port, healthUrl, metadata: { language: 'node' }, logger,
  });
  state.registration.start();
  for (const helper of helpers) helper.start();
  consumer.start();

  onShutdown(async () => {
    state.stopping = true;
    await state.registration.close();
    // Keep serving a moment: callers learn of the deregistration through
    // their long poll within milliseconds; this covers requests on their way.
    await setTimeout(DRAIN_MS);
    await stopWebServer(server);
    await consumer.stop();
    for (const helper of [...helpers].reverse()) await helper.stop();
    await producer.disconnect();
    db.close();
    await stopFaults();
    if (!(await stopTelemetry())) logger.warn('spans not sent in time: dropped');
  }, { timeoutMs: SHUTDOWN_TIMEOUT_MS, logger });
}

/**
 * Said first, and loudly: a shop in development mode takes short secrets
 * and a guessed issuer, which is fine on a laptop and nowhere else. A
 * secret the service made up for itself (`config.generatedSecrets`, names
 * only) is said too, with how to choose it instead.
 */
function warnOfDevelopment(config, logger) {
  if (config.mode === 'development') {
    logger.warn({ mode: config.mode }, 'DEVELOPMENT MODE: short secrets and the default issuer are '
      + 'accepted; set POLYSHOP_MODE=production (the default) anywhere but on your own machine');
  }
  for (const name of config.generatedSecrets ?? []) {
    logger.warn({ setting: name }, `${name} is not set: a random one is used until this process `
      + `stops; set ${name} or ${name}_FILE to choose it`);
  }
}

/** /readyz: not while stopping, only once registered, only while consuming. */
function readinessOf(state, consumer) {
  return {
    accepting: () => !state.stopping,
    registered: () => Boolean(state.registration?.isRegistered),
    consumer: () => consumer.isRunning,
  };
}

function exitOnStartFailure(service, error) {
  // A configuration problem is the user's to fix: its message says what; a stack would not help.
  const text = error instanceof ConfigError ? error.message : (error.stack ?? error);
  process.stderr.write(`${service} could not start: ${text}\n`);
  process.exit(1);
}
