/**
 * GET /notifications[?order_id=] (contracts/openapi/notifications.yaml).
 *
 * A user sees only their own notifications. Asking for an order that is not
 * theirs, or that this service has not seen, is a 404, as at orders: the
 * answer never tells whether someone else's order exists. A service
 * principal (service:NAME) may read any.
 */
import { Router } from 'express';
import { BadRequest, NotFound } from '@polyshop/common';
import {
  notificationsOfOrder, ownerOf, RECENT_LIMIT, recentNotifications,
} from '../domain/notifications.js';

/**
 * @param {object} deps
 * @param {import('better-sqlite3').Database} deps.db
 * @param {import('express').RequestHandler} deps.authenticate rejects callers without a valid JWT
 */
export function notificationsRouter({ db, authenticate }) {
  const router = Router();

  router.get('/notifications', authenticate, (req, res) => {
    const { principal } = req;
    const orderId = req.query.order_id;
    if (orderId === undefined) {
      const user = principal.isService ? null : principal.name;
      res.json(recentNotifications(db, user, limitFrom(req.query.limit)).map(view));
      return;
    }
    if (typeof orderId !== 'string' || orderId === '') {
      throw new BadRequest('order_id must be given once, with an order id');
    }
    if (!principal.isService && ownerOf(db, orderId) !== principal.name) {
      throw new NotFound(`no order ${orderId}`);
    }
    res.json(notificationsOfOrder(db, orderId).map(view));
  });

  return router;
}

function limitFrom(value) {
  if (value === undefined) return RECENT_LIMIT;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw new BadRequest('limit must be an integer from 1 to 200');
  }
  return limit;
}

function view({ id, order_id, user, type, message, created_at }) {
  return { id, order_id, user, type, message, created_at };
}
