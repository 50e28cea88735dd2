/**
 * Inventory's settings, read from the environment once, at start-up.
 * The common ones (POLYSHOP_MODE, PORT, HOST, ADVERTISED_HOST, REGISTRY_URL,
 * REGISTRY_TOKEN, AUTH_ISSUER, KAFKA_BOOTSTRAP_SERVERS, DATA_DIR, LOG_LEVEL,
 * CONTRACTS_DIR) come from @polyshop/common's config module; its own:
 *
 *   INVENTORY_RESERVATION_TTL_SECONDS  a reservation still held this long is
 *     released by inventory itself (default 120; keep it above orders'
 *     ORDERS_SAGA_TIMEOUT_SECONDS, docs/saga.md "Timeouts")
 *   INVENTORY_SEED_FILE  the stock a new database starts with (default
 *     CONTRACTS_DIR/seed/products.json); tests and benchmarks give one with
 *     stock enough for every order their load places
 */
import { resolve } from 'node:path';
import { ConfigError, readServiceConfig } from '@polyshop/common';

export const SERVICE = 'inventory';
export const DEFAULT_PORT = 3001;
export const DEFAULT_RESERVATION_TTL_SECONDS = 120;

/** @returns {Readonly<object>} the validated, frozen settings; throws ConfigError */
export function loadConfig(env = process.env) {
  const common = readServiceConfig(env, { service: SERVICE, defaultPort: DEFAULT_PORT });
  const raw = env.INVENTORY_RESERVATION_TTL_SECONDS;
  const reservationTtlSeconds = raw ? Number(raw) : DEFAULT_RESERVATION_TTL_SECONDS;
  if (!Number.isFinite(reservationTtlSeconds) || reservationTtlSeconds <= 0) {
    const problem = `INVENTORY_RESERVATION_TTL_SECONDS: "${raw}" is not a positive number of seconds`;
    throw new ConfigError([problem]);
  }
  const seedFile = env.INVENTORY_SEED_FILE ? resolve(env.INVENTORY_SEED_FILE) : undefined;
  return Object.freeze({ ...common, reservationTtlSeconds, seedFile });
}
