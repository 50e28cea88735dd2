/**
 * Loyalty's settings, read from the environment once, at start-up: only
 * the ones every service has (POLYSHOP_MODE, PORT, HOST, REGISTRY_URL,
 * REGISTRY_TOKEN, AUTH_ISSUER, KAFKA_BOOTSTRAP_SERVERS, DATA_DIR, ...),
 * read and checked by @polyshop/common's config module.
 */
import { readServiceConfig } from '@polyshop/common';

export const SERVICE = 'loyalty';
export const DEFAULT_PORT = 3004;

/** @returns {Readonly<object>} the validated, frozen settings; throws ConfigError */
export function loadConfig(env = process.env) {
  return readServiceConfig(env, { service: SERVICE, defaultPort: DEFAULT_PORT });
}
