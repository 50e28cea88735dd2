/**
 * Storefront's settings, read from the environment once, at start-up.
 * The common ones (PORT, HOST, REGISTRY_URL, KAFKA_BOOTSTRAP_SERVERS,
 * DATA_DIR, JWT_SECRET, LOG_LEVEL, ...) come from @polyshop/common's config
 * module; its own:
 *
 *   GATEWAY_URL         where the gateway is, for logging in (POST /auth/token)
 *                       and its status (default http://127.0.0.1:8080)
 *   SESSION_SECRET      signs the session cookie; required when NODE_ENV=production
 *   OPERATOR_TOKEN      the bearer token of the operator API (/operator/...) and of
 *                       the system view's redrive; required when NODE_ENV=production
 *   BACKEND_TIMEOUT_MS  bound on one call to a service (default 3000)
 */
import { ConfigError, readServiceConfig } from '@polyshop/common';

export const SERVICE = 'storefront';
export const DEFAULT_PORT = 3003;
export const DEVELOPMENT_SESSION_SECRET = 'polyshop-dev-session-secret-not-for-production';
export const DEVELOPMENT_OPERATOR_TOKEN = 'polyshop-dev-operator-token-not-for-production';

/** @returns {Readonly<object>} the validated, frozen settings; throws ConfigError */
export function loadConfig(env = process.env) {
  const common = readServiceConfig(env, { service: SERVICE, defaultPort: DEFAULT_PORT });
  const problems = [];
  const gatewayUrl = (env.GATEWAY_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+$/.test(gatewayUrl)) {
    problems.push(`GATEWAY_URL: "${gatewayUrl}" is not an http(s) URL of a host`);
  }
  const production = env.NODE_ENV === 'production';
  const sessionSecret = env.SESSION_SECRET || (production ? '' : DEVELOPMENT_SESSION_SECRET);
  if (!sessionSecret) problems.push('SESSION_SECRET: required when NODE_ENV=production');
  const operatorToken = env.OPERATOR_TOKEN || (production ? '' : DEVELOPMENT_OPERATOR_TOKEN);
  if (!operatorToken) problems.push('OPERATOR_TOKEN: required when NODE_ENV=production');
  const backendTimeoutMs = Number(env.BACKEND_TIMEOUT_MS || 3000);
  if (!Number.isInteger(backendTimeoutMs) || backendTimeoutMs <= 0) {
    problems.push(`BACKEND_TIMEOUT_MS: "${env.BACKEND_TIMEOUT_MS}" is not a positive integer`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...common, gatewayUrl, sessionSecret, operatorToken, backendTimeoutMs,
  });
}
