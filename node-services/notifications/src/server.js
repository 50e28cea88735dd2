/**
 * Starts notifications: `node node-services/notifications/src/server.js`.
 *
 * Listens, registers with the registry, consumes `orders`: the sequence, and
 * stopping in the reverse order on SIGTERM/SIGINT, is @polyshop/common's
 * runService. What is notifications' own is here: its database, its
 * consumer, and the client-side discovery of orders instances that the
 * consumer's handlers call (started before the consumer, stopped after it).
 */
import { createDiscovery, createServiceClient, runService } from '@polyshop/common';
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
    const consumer = createNotificationsConsumer({
      kafka, db, contracts, producer, orders, jwtSecret: config.jwtSecret, logger,
    });
    const watchOrders = { start: () => discovery.start(), stop: () => discovery.close() };
    return { consumer, helpers: [watchOrders] };
  },
  createApp,
});
