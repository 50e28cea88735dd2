/**
 * Storefront's settings, read from the environment once, at start-up.
 * The common ones (POLYSHOP_MODE, PORT, HOST, REGISTRY_URL, REGISTRY_TOKEN,
 * AUTH_ISSUER, KAFKA_BOOTSTRAP_SERVERS, DATA_DIR, LOG_LEVEL, ...) come from
 * @polyshop/common's config module, and AUTH_CLIENT_SECRET, required here:
 * the storefront asks the gateway for a token to read the stock with. Its own:
 *
 *   GATEWAY_URL         where the gateway is, for logging in (POST /auth/token)
 *                       and its status (default http://127.0.0.1:8080)
 *   SESSION_SECRET      signs the session cookie
 *   OPERATOR_TOKEN      the bearer token of the operator API (/operator/...) and of
 *                       the system view's redrive
 *   BACKEND_TIMEOUT_MS  bound on one call to a service (default 3000)
 *   TRACE_VIEW_URL      a trace UI's page of one trace, `{trace_id}` where the id
 *                       goes: the order page and the system view link each order
 *                       to its trace (unset by default: no links)
 *
 * Both secrets may come from NAME_FILE instead, and both are required
 * outside development mode. In development mode a missing one is made up
 * for this process (a restart signs everyone out) and the log says how to
 * choose it: a value written here would be known to every reader.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, readSecret, readServiceConfig } from '@polyshop/common';
import { templateProblem } from './trace-links.js';

export const SERVICE = 'storefront';
export const DEFAULT_PORT = 3003;

/** @returns {Readonly<object>} the validated, frozen settings; throws ConfigError */
export function loadConfig(env = process.env) {
  const common = readServiceConfig(env, {
    service: SERVICE, defaultPort: DEFAULT_PORT, callsServices: true,
  });
  const problems = [];
  const gatewayUrl = (env.GATEWAY_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+$/.test(gatewayUrl)) {
    problems.push(`GATEWAY_URL: "${gatewayUrl}" is not an http(s) URL of a host`);
  }
  const generatedSecrets = [];
  const secret = (name) => secretOrMadeUp(env, name, common, { problems, generatedSecrets });
  const sessionSecret = secret('SESSION_SECRET');
  const operatorToken = secret('OPERATOR_TOKEN');
  const backendTimeoutMs = Number(env.BACKEND_TIMEOUT_MS || 3000);
  if (!Number.isInteger(backendTimeoutMs) || backendTimeoutMs <= 0) {
    problems.push(`BACKEND_TIMEOUT_MS: "${env.BACKEND_TIMEOUT_MS}" is not a positive integer`);
  }
  const traceViewUrl = env.TRACE_VIEW_URL?.trim() || null;
  const traceViewProblem = traceViewUrl && templateProblem(traceViewUrl);
  if (traceViewProblem) problems.push(`TRACE_VIEW_URL: "${traceViewUrl}" ${traceViewProblem}`);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...common,
    // The fault switches' flag file, which an operator may write from the system view.
    faultsFile: env.FAULTS_FILE?.trim() || null,
    gatewayUrl,
    sessionSecret,
    operatorToken,
    backendTimeoutMs,
    traceViewUrl,
    generatedSecrets: Object.freeze(generatedSecrets),
  });
}

// runService logs the name of each one made up, and how to set it.
function secretOrMadeUp(env, name, { mode, minSecretBytes }, { problems, generatedSecrets }) {
  try {
    const value = readSecret(env, name, {
      mode, minBytes: minSecretBytes, required: mode !== 'development',
    });
    if (value !== undefined) return value;
    generatedSecrets.push(name);
    return randomBytes(32).toString('base64url');
  } catch (error) {
    problems.push(`${name}: ${error.message}`);
    return undefined;
  }
}
