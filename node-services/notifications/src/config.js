/**
 * Notifications' settings, read from the environment once, at start-up.
 * The common ones (POLYSHOP_MODE, PORT, HOST, ADVERTISED_HOST, REGISTRY_URL,
 * REGISTRY_TOKEN, AUTH_ISSUER, KAFKA_BOOTSTRAP_SERVERS, DATA_DIR, LOG_LEVEL,
 * CONTRACTS_DIR) come from @polyshop/common's config module, and
 * AUTH_CLIENT_SECRET, required here: notifications asks the gateway for
 * tokens to call orders with. Its own:
 *
 *   ORDERS_TIMEOUT_MS  bound on one call to orders (default 2000)
 */
import { ConfigError, readServiceConfig } from '@polyshop/common';

export const SERVICE = 'notifications';
export const DEFAULT_PORT = 3002;

/** @returns {Readonly<object>} the validated, frozen settings; throws ConfigError */
export function loadConfig(env = process.env) {
  const common = readServiceConfig(env, {
    service: SERVICE, defaultPort: DEFAULT_PORT, callsServices: true,
  });
  const ordersTimeoutMs = Number(env.ORDERS_TIMEOUT_MS || 2000);
  if (!Number.isInteger(ordersTimeoutMs) || ordersTimeoutMs <= 0) {
    const problem = `ORDERS_TIMEOUT_MS: "${env.ORDERS_TIMEOUT_MS}" is not a positive integer`;
    throw new ConfigError([problem]);
  }
  return Object.freeze({ ...common, ordersTimeoutMs });
}
