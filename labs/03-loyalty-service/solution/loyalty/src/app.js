/**
 * Loyalty's HTTP app. Builds the app and never listens: server.js does.
 * What every service's app has (logs, health, metrics, problem responses)
 * is @polyshop/common's createServiceApp; loyalty adds GET /points/{user}.
 */
import { createServiceApp, createTokenVerifier, requirePrincipal } from '@polyshop/common';
import { pointsRouter } from './routes/points.js';

/**
 * @param {object} deps
 * @param {Readonly<object>} deps.config from config.js
 * @param {import('pino').Logger} deps.logger
 * @param {import('better-sqlite3').Database} deps.db
 * @param {Record<string, () => boolean>} [deps.readiness] checks for /readyz besides the database
 */
export function createApp({ config, logger, db, readiness }) {
  const authenticate = requirePrincipal(createTokenVerifier({
    issuer: config.authIssuer, service: config.service, auth: config.auth, logger,
  }));
  return createServiceApp({ logger, db, readiness, routers: [pointsRouter({ db, authenticate })] });
}
