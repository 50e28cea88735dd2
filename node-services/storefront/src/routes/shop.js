/**
 * GET / (products), GET /products/:sku, the cart (GET /cart, POST /cart,
 * POST /cart/update). Visitors may shop before they log in: the cart lives
 * in the session, which is made on first use.
 */
import { Router } from 'express';
import { BadRequest, NotFound, UpstreamError } from '@polyshop/common';
import { addToCart, cartLines, parseQuantity, setQuantity } from '../domain/cart.js';
import { chromeOf, redirect, sendPage } from '../pages.js';
import { cartMain, productMain, productsMain } from '../views/shop.js';

export function shopRouter({ backends }) {
  const router = Router();

  router.get('/', async (req, res) => {
    const [products, stock] = await Promise.all([backends.products(), stockBySku(backends)]);
    const main = productsMain({ products, stock, csrf: chromeOf(req).csrf });
    sendPage(req, res, { title: 'Products', main });
  });

  router.get('/products/:sku', async (req, res) => {
    const [product, stock] = await Promise.all([
      productOrNotFound(backends, req.params.sku), stockBySku(backends),
    ]);
    const main = productMain({ product, stock: stock.get(product.sku), csrf: chromeOf(req).csrf });
    sendPage(req, res, { title: product.name, main });
  });

  router.get('/cart', async (req, res) => {
    const lines = cartLines(req.session.cart ?? {}, await productsBySku(backends));
    const notice = req.query.added ? 'Added to your cart.' : null;
    sendPage(req, res, { title: 'Cart', main: cartMain({ lines, csrf: chromeOf(req).csrf, notice }) });
  });

  router.post('/cart', async (req, res) => {
    const { sku, quantity } = cartForm(req.body, 1);
    await productOrNotFound(backends, sku);
    req.session.cart = addToCart(req.session.cart ?? {}, sku, quantity);
    redirect(res, '/cart?added=1');
  });

  router.post('/cart/update', (req, res) => {
    const { sku, quantity } = cartForm(req.body, 0);
    req.session.cart = setQuantity(req.session.cart ?? {}, sku, quantity);
    redirect(res, '/cart');
  });

  return router;
}

function cartForm(body, minimum) {
  const sku = body?.sku;
  const quantity = parseQuantity(body?.quantity);
  if (typeof sku !== 'string' || !/^[A-Z0-9-]{1,64}$/.test(sku)) {
    throw new BadRequest('the form names no product');
  }
  if (quantity === null || quantity < minimum) {
    throw new BadRequest(`the quantity must be a whole number from ${minimum} to 100`);
  }
  return { sku, quantity };
}

async function productOrNotFound(backends, sku) {
  try {
    return await backends.product(sku);
  } catch (error) {
    if (error instanceof UpstreamError && error.status === 404) {
      throw new NotFound(`We have no product ${sku}.`);
    }
    throw error;
  }
}

export async function productsBySku(backends) {
  return new Map((await backends.products()).map((product) => [product.sku, product]));
}

/** Stock by sku; an empty map when inventory cannot be asked (the page says "unknown"). */
async function stockBySku(backends) {
  try {
    return new Map((await backends.stock()).map((entry) => [entry.sku, entry]));
  } catch {
    return new Map();
  }
}
