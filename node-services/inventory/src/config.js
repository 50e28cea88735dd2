/**
 * Inventory's settings, read from the environment once, at start-up.
 * The common ones (PORT, HOST, ADVERTISED_HOST, REGISTRY_URL,
 * REGISTRY_TOKEN, KAFKA_BOOTSTRAP_SERVERS, DATA_DIR, JWT_SECRET, LOG_LEVEL,
 * CONTRACTS_DIR) and their defaults are described in @polyshop/common's
 * config module; inventory has no settings of its own.
 */
import { readServiceConfig } from '@polyshop/common';

export const SERVICE = 'inventory';
export const DEFAULT_PORT = 3001;

/** @returns {Readonly<object>} the validated, frozen settings; throws ConfigError */
export function loadConfig(env = process.env) {
  return readServiceConfig(env, { service: SERVICE, defaultPort: DEFAULT_PORT });
}
