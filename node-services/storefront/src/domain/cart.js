/**
 * The cart: skus and quantities, kept in the browser's server-side session.
 * Prices are never kept here: they are read from the catalog when the cart
 * is shown, and orders asks the catalog again when the order is placed.
 */

export const MAX_QUANTITY = 100;

/** @returns {Record<string, number>} a new cart with `quantity` more of `sku` (capped) */
export function addToCart(cart, sku, quantity) {
  const total = Math.min((cart[sku] ?? 0) + quantity, MAX_QUANTITY);
  return { ...cart, [sku]: total };
}

/** @returns {Record<string, number>} a new cart with `sku` at `quantity` (0 removes it) */
export function setQuantity(cart, sku, quantity) {
  const { [sku]: _, ...rest } = cart;
  return quantity > 0 ? { ...rest, [sku]: Math.min(quantity, MAX_QUANTITY) } : rest;
}

/** The order request's items, in a stable order (the idempotency fingerprint depends on it). */
export function orderItems(cart) {
  return Object.entries(cart)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * The cart's lines with the catalog's products.
 * @param {Record<string, number>} cart
 * @param {Map<string, object>} products by sku
 */
export function cartLines(cart, products) {
  return orderItems(cart)
    .filter(({ sku }) => products.has(sku))
    .map(({ sku, quantity }) => {
      const product = products.get(sku);
      return { ...product, quantity, line_cents: product.price_cents * quantity };
    });
}

/** A quantity from a form field: an integer from 0 to 100, or null. */
export function parseQuantity(text) {
  if (typeof text !== 'string' || !/^\d{1,3}$/.test(text.trim())) return null;
  const quantity = Number(text);
  return quantity <= MAX_QUANTITY ? quantity : null;
}
