/**
 * @polyshop/common: what every Node.js piece of polyshop shares.
 * Each export is documented in its own module.
 */
export { backoffDelay } from './backoff.js';
export { createLogger } from './logger.js';
export { onShutdown } from './shutdown.js';
export { brokersFromEnv, createKafka, createProducer } from './kafka.js';
export { RegistryApi, RegistryError } from './registry/api.js';
export { createRegistration } from './registry/registration.js';
export { createDiscovery } from './registry/discovery.js';
