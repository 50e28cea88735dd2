/**
 * The storefront, started: server.js imports this once tracing runs.
 *
 * Listens, registers, consumes the saga's topics: the sequence, and
 * stopping in the reverse order on SIGTERM/SIGINT, is @polyshop/common's
 * runService. What is the storefront's own is here: its database (sessions
 * and the saga's timeline), the discovery of the services it calls, the
 * timeline consumer whose steps go live to open pages, the tail of the
 * dead-letter topics, the system view's monitor, and the dead letters the
 * operator reads and redrives.
 */
import { createDiscovery, DeadLetters, runService } from '@polyshop/common';
import { createApp } from './app.js';
import { createBackends } from './backends.js';
import { loadConfig, SERVICE } from './config.js';
import { createDeadLetterTail, createTimelineConsumer } from './consumers/index.js';
import { openStorefrontDatabase } from './database.js';
import { storedStep } from './domain/timeline.js';
import { createHub } from './live/hub.js';
import { createSystemMonitor } from './live/system.js';

runService({
  service: SERVICE,
  loadConfig,
  openDatabase: ({ config }) => openStorefrontDatabase(config.databasePath),
  createWorkers({ config, logger, contracts, db, api, kafka, producer }) {
    const discovery = createDiscovery({ api, logger });
    const backends = createBackends({ discovery, config, logger });
    const hub = createHub();
    const consumer = createTimelineConsumer({
      kafka, db, contracts, producer, retryDelays: config.consumerRetryDelays, logger,
    });
    consumer.on('record', ({ outcome, event }) => {
      if (outcome === 'handled') hub.publishStep(storedStep(db, event.id));
    });
    const deadLetterTail = createDeadLetterTail({ kafka, db, contracts, logger });
    const monitor = createSystemMonitor({
      api, gatewayUrl: config.gatewayUrl, kafka, contracts, db, logger,
    });
    const deadLetters = DeadLetters.fromContracts({ brokers: config.kafkaBrokers, logger, contracts });
    const helpers = [
      { start: () => discovery.start(), stop: () => discovery.close() },
      { start: () => deadLetterTail.start(), stop: () => deadLetterTail.stop() },
      { start: () => undefined, stop: () => monitor.stop() },
      { start: () => undefined, stop: () => deadLetters.close() },
    ];
    return { consumer, helpers, deps: { backends, hub, monitor, deadLetters } };
  },
  createApp,
});
