/**
 * Inventory's HTTP app. Builds the app and never listens: server.js does,
 * and tests start it on port 0.
 */
import express from 'express';
import {
  healthRouter, jsonBody, notFoundHandler, problemHandler, requestLogger, requirePrincipal,
} from '@polyshop/common';
import { stockRouter } from './routes/stock.js';

/**
 * @param {object} deps
 * @param {Readonly<object>} deps.config from config.js
 * @param {import('pino').Logger} deps.logger
 * @param {import('better-sqlite3').Database} deps.db
 * @param {Record<string, () => boolean>} [deps.readiness] checks for /readyz besides the database
 */
export function createApp({ config, logger, db, readiness = {} }) {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLogger(logger));
  app.use(jsonBody());
  app.use(healthRouter({ database: () => db.open, ...readiness }));
  app.use(stockRouter({ db, authenticate: requirePrincipal(config.jwtSecret) }));
  app.use(notFoundHandler);
  app.use(problemHandler({ logger }));
  return app;
}
