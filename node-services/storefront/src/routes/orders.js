/**
 * Checkout (GET and POST /checkout), my orders (GET /orders), one order
 * (GET /orders/:id) and its saga as server-sent events
 * (GET /orders/:id/events), my notifications (GET /notifications).
 *
 * One checkout is one Idempotency-Key: made when the checkout page is
 * shown, kept in the session with the items it is for, sent to orders with
 * them. Pressing "Place order" twice sends the same key and items twice,
 * and orders answers both with the one order it made.
 *
 * With TRACE_VIEW_URL set, the order page links to the order's trace, and
 * each step it is sent carries that link (`trace_url`), so a page opened
 * before the first step shows the link when it comes.
 */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { HttpProblem, NotFound, Unauthenticated, UpstreamError } from '@polyshop/common';
import { cartLines, orderItems } from '../domain/cart.js';
import { statusOf, stepsOf } from '../domain/timeline.js';
import { openEventStream } from '../live/sse.js';
import { chromeOf, redirect, requireUser, sendPage } from '../pages.js';
import { currentUser } from '../session.js';
import { withTraceUrl } from '../trace-links.js';
import {
  checkoutMain, notificationsMain, orderMain, ordersMain,
} from '../views/orders.js';
import { productsBySku } from './shop.js';

export function ordersRouter({ backends, db, hub, traceLinks }) {
  const router = Router();
  const linked = withTraceUrl(traceLinks);
  const sent = (step) => ({ ...linked(step), language: backends.languageOf(step.service) });

  router.get('/checkout', requireUser, async (req, res) => {
    const items = orderItems(req.session.cart ?? {});
    if (items.length === 0) return redirect(res, '/cart');
    const lines = cartLines(req.session.cart, await productsBySku(backends));
    const current = req.session.checkout;
    const same = current && JSON.stringify(current.items) === JSON.stringify(items);
    req.session.checkout = same ? current : { key: randomUUID(), items };
    const notice = req.query.stale ? 'Your cart changed: check it and place the order again.' : null;
    const main = checkoutMain({ lines, key: req.session.checkout.key, csrf: chromeOf(req).csrf, notice });
    return sendPage(req, res, { title: 'Checkout', main, scripts: ['checkout.js'] });
  });

  router.post('/checkout', requireUser, async (req, res) => {
    const key = String(req.body?.idempotency_key ?? '');
    const placed = req.session.placed ?? {};
    if (placed[key]) return redirect(res, `/orders/${placed[key]}`); // the same checkout, again
    const { checkout } = req.session;
    if (!checkout || checkout.key !== key) return redirect(res, '/checkout?stale=1');
    const order = await place(backends, req.user.token, checkout);
    req.session.placed = { ...lastPlaced(placed), [key]: order.id };
    req.session.cart = {};
    delete req.session.checkout;
    return redirect(res, `/orders/${order.id}`);
  });

  router.get('/orders', requireUser, async (req, res) => {
    const orders = await backends.myOrders(req.user.token);
    sendPage(req, res, { title: 'My orders', main: ordersMain({ orders }) });
  });

  router.get('/orders/:id', requireUser, async (req, res) => {
    const order = await ownOrder(backends, req.user.token, req.params.id);
    const products = await productsBySku(backends).catch(() => new Map());
    const steps = stepsOf(db, order.id);
    // null: no link on this page at all (TRACE_VIEW_URL unset); a null href: not known yet.
    const trace = traceLinks.shown ? { href: traceLinks.href(steps[0]?.trace_id) } : null;
    const main = orderMain({
      order: { ...order, ...statusOf(order, steps) }, steps, languageOf: backends.languageOf, products, trace,
    });
    sendPage(req, res, { title: `Order ${order.id.slice(0, 8)}`, main, scripts: ['order.js'] });
  });

  router.get('/orders/:id/events', async (req, res) => {
    const user = currentUser(req);
    if (!user) throw new Unauthenticated('log in to follow an order');
    const order = await ownOrder(backends, user.token, req.params.id);
    const stream = openEventStream(req, res);
    // Subscribe before reading the history: a step stored in between is
    // sent twice rather than never; the page keeps one per event id.
    stream.onClose(hub.onStep((step) => {
      if (step.order_id === order.id) stream.send('step', sent(step), step.id);
    }));
    for (const step of stepsOf(db, order.id)) stream.send('step', sent(step), step.id);
  });

  router.get('/notifications', requireUser, async (req, res) => {
    const notifications = await backends.myNotifications(req.user.token);
    sendPage(req, res, { title: 'Notifications', main: notificationsMain({ notifications }) });
  });

  return router;
}

async function place(backends, token, { key, items }) {
  try {
    return await backends.placeOrder(token, items, key);
  } catch (error) {
    if (error instanceof UpstreamError && [400, 409].includes(error.status)) {
      throw new HttpProblem(error.status, 'The order was not placed', error.body?.detail);
    }
    throw error;
  }
}

/** The user's order; another user's, or none, is the same 404 (as at orders). */
async function ownOrder(backends, token, id) {
  try {
    return await backends.order(token, id);
  } catch (error) {
    if (error instanceof UpstreamError && error.status === 404) {
      throw new NotFound(`You have no order ${id}.`);
    }
    throw error;
  }
}

// The keys of the last few checkouts, so an old confirmation's form sent again finds its order.
function lastPlaced(placed) {
  return Object.fromEntries(Object.entries(placed).slice(-4));
}
