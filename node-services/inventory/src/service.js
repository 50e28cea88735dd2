/**
 * Inventory, started: server.js imports this once tracing runs.
 *
 * Listens, registers with the registry, consumes `orders` and `payments`,
 * publishes its outbox: the sequence, and stopping in the reverse order on
 * SIGTERM/SIGINT, is @polyshop/common's runService. What is inventory's own
 * is here: its database (seeded with stock), its consumer, the outbox
 * relay that publishes what the consumer's handlers enqueue, and the
 * sweeper that releases reservations held too long (both started before
 * the consumer, stopped after it).
 */
import { createOutboxRelay, runService } from '@polyshop/common';
import { createApp } from './app.js';
import { loadConfig, SERVICE } from './config.js';
import { createInventoryConsumer } from './consumers/index.js';
import { openInventoryDatabase } from './database.js';
import { createExpirySweeper } from './expiry.js';

runService({
  service: SERVICE,
  loadConfig,
  openDatabase: ({ config, contracts }) => (
    openInventoryDatabase(config.databasePath, { contractsDir: contracts.dir, seedFile: config.seedFile })
  ),
  createWorkers({ config, logger, contracts, db, kafka, producer }) {
    const relay = createOutboxRelay({ db, producer, logger });
    const consumer = createInventoryConsumer({
      kafka, db, contracts, producer, retryDelays: config.consumerRetryDelays, logger,
    });
    // A handled event may have added outbox rows: publish them now, not at the next poll.
    consumer.on('record', ({ outcome }) => outcome === 'handled' && relay.wake());
    const sweeper = createExpirySweeper({
      db, contracts, logger, ttlSeconds: config.reservationTtlSeconds, onReleased: () => relay.wake(),
    });
    return { consumer, helpers: [relay, sweeper] };
  },
  createApp,
});
