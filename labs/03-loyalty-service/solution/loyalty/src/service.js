/**
 * Loyalty, started: server.js imports this once tracing runs.
 *
 * Listening, registering, consuming and stopping on SIGTERM/SIGINT are
 * @polyshop/common's runService, as for every Node.js service. What is
 * loyalty's own is its database and its consumer of `orders`; it calls no
 * other service, so it needs no helpers beside the consumer.
 */
import { runService } from '@polyshop/common';
import { createApp } from './app.js';
import { loadConfig, SERVICE } from './config.js';
import { createLoyaltyConsumer } from './consumers/orders.js';
import { openLoyaltyDatabase } from './database.js';

runService({
  service: SERVICE,
  loadConfig,
  openDatabase: ({ config }) => openLoyaltyDatabase(config.databasePath),
  createWorkers: ({ config, logger, contracts, db, kafka, producer }) => ({
    consumer: createLoyaltyConsumer({
      kafka, db, contracts, producer, retryDelays: config.consumerRetryDelays, logger,
    }),
  }),
  createApp,
});
