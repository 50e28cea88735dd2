/**
 * @polyshop/common: what every Node.js piece of polyshop shares.
 * Each export is documented in its own module.
 */
export { backoffDelay } from './backoff.js';
export { createLogger } from './logger.js';
export { onShutdown } from './shutdown.js';
export {
  brokersFromEnv, consumerGroupLags, createKafka, createProducer, createTopicTail, topicSizes,
} from './kafka.js';
export { RegistryApi, RegistryError } from './registry/api.js';
export { createRegistration } from './registry/registration.js';
export { createDiscovery } from './registry/discovery.js';
export { ConfigError, readSecret, readServiceConfig } from './config.js';
export {
  Contracts, findContractsDir, InvalidEvent, loadContracts, newEvent, readAuthContract,
} from './events.js';
export {
  markProcessed, migrate, openDatabase, PROCESSED_EVENTS_TABLE, wasProcessed,
} from './db.js';
export { ConsumerLoop, createConsumerLoop } from './consumer.js';
export {
  AlreadyRedriven, BadLetterId, DeadLetter, DeadLetterError, DeadLetters, KafkaUnavailable, LetterId,
  Redrive, UnknownDeadLetter,
} from './dead-letters.js';
export { DEFAULT_RETRY_DELAYS, parseRetryDelays } from './retries.js';
export { isTransient, TransientError } from './errors.js';
export {
  addToOutbox, createOutboxRelay, emitEvent, OUTBOX_TABLE, OutboxRelay, unsentRows,
} from './outbox.js';
export {
  bearerToken, createTokenVerifier, KeysUnavailable, requirePrincipal, Unauthenticated,
} from './identity.js';
export { IssuerUnavailable } from './issuer.js';
export { createServiceTokens, ServiceTokenError } from './service-tokens.js';
export {
  BadRequest, healthRouter, HttpProblem, jsonBody, notFoundHandler, NotFound,
  PROBLEM_CONTENT_TYPE, problemHandler, requestLogger, sendProblem, startWebServer, stopWebServer,
} from './http.js';
export { createServiceApp, runService } from './service.js';
export {
  METRICS_PATH, metric, metricsRouter, requestMetrics, watchOutbox,
} from './metrics.js';
export { untraced, within } from './telemetry.js';
export {
  activeFaults, faultStates, faultSwitches, isOn, onFaultsChange, setFault, stopFaults, valueOf,
  watchFaults,
} from './faults.js';
export {
  createServiceClient, ServiceClient, ServiceUnavailable, UpstreamError,
} from './service-client.js';
