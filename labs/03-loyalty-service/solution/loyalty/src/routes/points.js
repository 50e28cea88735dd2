/**
 * GET /points/{user} → {"user", "points"}.
 *
 * A user reads their own points only; asking for someone else's is a 404,
 * so the answer never tells whether that user has any. A service principal
 * (service:NAME) may read anyone's.
 */
import { Router } from 'express';
import { NotFound } from '@polyshop/common';
import { balanceOf } from '../domain/points.js';

/**
 * @param {object} deps
 * @param {import('better-sqlite3').Database} deps.db
 * @param {import('express').RequestHandler} deps.authenticate rejects callers without a valid JWT
 */
export function pointsRouter({ db, authenticate }) {
  const router = Router();

  router.get('/points/:user', authenticate, (req, res) => {
    const { principal } = req;
    const { user } = req.params;
    if (!principal.isService && principal.name !== user) {
      throw new NotFound(`no points for ${user}`);
    }
    res.json({ user, points: balanceOf(db, user) });
  });

  return router;
}
