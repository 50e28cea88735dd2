/**
 * Storefront's HTTP app: the browser's backend. Builds the app and never
 * listens: server.js does, and tests start it on port 0.
 *
 * In order: the assets (no session for them), the operator API (a bearer
 * token, no session), form bodies, the session cookie and the CSRF check
 * of every state-changing request, then the pages: shopping, account,
 * orders, the system view. Errors become pages for browsers and problem
 * JSON for everyone else (the operator API's are always problem JSON).
 */
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createServiceApp } from '@polyshop/common';
import { errorPages } from './pages.js';
import { accountRouter } from './routes/account.js';
import { operatorApi } from './routes/operator.js';
import { ordersRouter } from './routes/orders.js';
import { shopRouter } from './routes/shop.js';
import { systemRouter } from './routes/system.js';
import { csrfProtection, sessions } from './session.js';
import { linksToTraces } from './trace-links.js';

const PUBLIC = fileURLToPath(new URL('../public', import.meta.url));

// Scripts, styles and forms of this site only: an injected script or a
// form posting elsewhere does not run.
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

/**
 * @param {object} deps
 * @param {Readonly<object>} deps.config from config.js
 * @param {import('better-sqlite3').Database} deps.db sessions and the saga's timeline
 * @param {object} deps.backends from backends.js
 * @param {object} deps.hub live steps (live/hub.js)
 * @param {object} deps.monitor the system view's data (live/system.js)
 * @param {import('@polyshop/common').DeadLetters} deps.deadLetters read and redrive dead letters
 */
export function createApp({
  config, logger, db, readiness, backends, hub, monitor, deadLetters,
}) {
  const { operatorToken } = config;
  const traceLinks = linksToTraces(config.traceViewUrl);
  const middleware = [
    (req, res, next) => {
      res.set(SECURITY_HEADERS);
      next();
    },
    ['/assets', express.static(PUBLIC, { index: false, maxAge: '1h', fallthrough: true })],
    operatorApi({ deadLetters, operatorToken, logger }),
    express.urlencoded({ extended: false, limit: '16kb' }),
    sessions({ db, secret: config.sessionSecret }),
    csrfProtection,
  ];
  const routers = [
    shopRouter({ backends }),
    accountRouter({ backends }),
    ordersRouter({ backends, db, hub, traceLinks }),
    systemRouter({
      monitor, hub, deadLetters, operatorToken, traceLinks, faultsFile: config.faultsFile, logger,
    }),
  ];
  const app = createServiceApp({
    logger, db, readiness, middleware, routers, errorPages: errorPages({ logger }),
  });
  // The gateway in front says whether the browser used https (secure cookies).
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  return app;
}
