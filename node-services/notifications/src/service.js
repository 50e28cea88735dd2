/**
 * Notifications, started: server.js imports this once tracing runs.
 *
 * Listens, registers with the registry, consumes `orders`, publishes its
 * outbox: the sequence, and stopping in the reverse order on SIGTERM/SIGINT,
 * is @polyshop/common's runService. What is notifications' own is here: its
 * database, its consumer, the client-side discovery of orders instances that
 * the consumer's handlers call (with tokens the gateway issues for that), and
 * the outbox relay that publishes the notification.sent events they enqueue
 * (both started before the consumer, stopped after it).
 */
import {
  createDiscovery, createOutboxRelay, createServiceClient, createServiceTokens, runService,
} from '@polyshop/common';
import { createApp } from './app.js';
import { loadConfig, SERVICE } from './config.js';
import { createNotificationsConsumer } from './consumers/index.js';
import { openNotificationsDatabase } from './database.js';

runService({
  service: SERVICE,
  loadConfig,
  openDatabase: ({ config }) => openNotificationsDatabase(config.databasePath),
  createWorkers({ config, logger, contracts, db, api, kafka, producer }) {
    const discovery = createDiscovery({ api, logger });
    const orders = createServiceClient({
      discovery, service: 'orders', timeoutMs: config.ordersTimeoutMs, logger,
    });
    const serviceTokens = createServiceTokens({
      issuer: config.authIssuer, clientId: SERVICE, clientSecret: config.authClientSecret,
      auth: config.auth, logger,
    });
    const relay = createOutboxRelay({ db, producer, logger });
    const consumer = createNotificationsConsumer({
      kafka, db, contracts, producer, retryDelays: config.consumerRetryDelays, orders,
      serviceTokens, logger,
    });
    // A handled event may have added an outbox row: publish it now, not at the next poll.
    consumer.on('record', ({ outcome }) => outcome === 'handled' && relay.wake());
    const watchOrders = {
      start: () => discovery.start(),
      stop: () => { discovery.close(); orders.close(); },
    };
    return { consumer, helpers: [watchOrders, relay] };
  },
  createApp,
});
