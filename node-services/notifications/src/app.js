/**
 * Notifications' HTTP app. Builds the app and never listens: server.js
 * does, and tests start it on port 0. What every service's app has (logs,
 * health, problem responses) is @polyshop/common's createServiceApp;
 * notifications adds its own routes.
 */
import { createServiceApp, createTokenVerifier, requirePrincipal } from '@polyshop/common';
import { notificationsRouter } from './routes/notifications.js';

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
  const routers = [notificationsRouter({ db, authenticate })];
  return createServiceApp({ logger, db, readiness, routers });
}
