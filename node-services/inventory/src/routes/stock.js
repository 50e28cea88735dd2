/**
 * GET /stock and GET /stock/:sku (contracts/openapi/inventory.yaml).
 */
import { Router } from 'express';
import { NotFound } from '@polyshop/common';
import { getStock, listStock } from '../domain/stock.js';

/**
 * @param {object} deps
 * @param {import('better-sqlite3').Database} deps.db
 * @param {import('express').RequestHandler} deps.authenticate rejects callers without a valid JWT
 */
export function stockRouter({ db, authenticate }) {
  const router = Router();

  router.get('/stock', authenticate, (req, res) => {
    res.json(listStock(db));
  });

  router.get('/stock/:sku', authenticate, (req, res) => {
    const stock = getStock(db, req.params.sku);
    if (!stock) throw new NotFound(`no stock is kept for sku ${req.params.sku}`);
    res.json(stock);
  });

  return router;
}
