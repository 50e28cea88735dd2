/**
 * Starts inventory: `node node-services/inventory/src/server.js`.
 *
 * Listens, registers with the registry, consumes `orders` and `payments`,
 * publishes its outbox. On SIGTERM/SIGINT it stops in the reverse order:
 * stop being ready, leave the registry, close the HTTP server, stop the
 * consumer, the relay and the producer, close the database; a stop that
 * fails or outlasts the timeout exits 1, and so does a crash.
 */
import {
  ConfigError, createKafka, createLogger, createOutboxRelay, createProducer, createRegistration, loadContracts,
  onShutdown, RegistryApi, startWebServer, stopWebServer,
} from '@polyshop/common';
import { createApp } from './app.js';
import { loadConfig, SERVICE } from './config.js';
import { createInventoryConsumer } from './consumers/index.js';
import { openInventoryDatabase } from './database.js';

const SHUTDOWN_TIMEOUT_MS = 15000;

async function main() {
  const config = loadConfig(process.env);
  const logger = createLogger({ service: SERVICE, level: config.logLevel });
  const contracts = loadContracts(config.contractsDir);
  const db = openInventoryDatabase(config.databasePath, { contractsDir: contracts.dir });

  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: SERVICE, logger });
  const producer = createProducer(kafka);
  const relay = createOutboxRelay({ db, producer, logger });
  const consumer = createInventoryConsumer({ kafka, db, contracts, producer, logger });
  // A handled event may have added outbox rows: publish them now, not at the next poll.
  consumer.on('record', ({ outcome }) => outcome === 'handled' && relay.wake());

  let stopping = false;
  let registration = null;
  const app = createApp({
    config,
    logger,
    db,
    readiness: {
      accepting: () => !stopping,
      registered: () => Boolean(registration?.isRegistered),
      consumer: () => consumer.isRunning,
    },
  });
  const server = await startWebServer(app, { host: config.host, port: config.port });
  const { port } = server.address();
  logger.info({ host: config.host, port, database: config.databasePath }, 'listening');

  const api = new RegistryApi({ baseUrl: config.registryUrl, token: config.registryToken });
  const healthUrl = `http://${config.advertisedHost}:${port}/readyz`;
  registration = createRegistration({
    api, service: SERVICE, host: config.advertisedHost, port, healthUrl, logger,
  });
  registration.start();
  consumer.start();
  relay.start();

  onShutdown(async () => {
    stopping = true;
    await registration.close();
    await stopWebServer(server);
    await consumer.stop();
    await relay.stop();
    await producer.disconnect();
    db.close();
  }, { timeoutMs: SHUTDOWN_TIMEOUT_MS, logger });
}

main().catch((error) => {
  // A configuration problem is the user's to fix: its message says what; a stack would not help.
  const text = error instanceof ConfigError ? error.message : (error.stack ?? error);
  process.stderr.write(`${SERVICE} could not start: ${text}\n`);
  process.exit(1);
});
