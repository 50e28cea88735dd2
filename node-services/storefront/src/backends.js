/**
 * The services behind the storefront, as it calls them.
 *
 * Catalog, inventory, orders and notifications are found by client-side
 * discovery (the registry's instances, cached) and called directly, each
 * call with the signed-in user's own token, so every service still decides
 * for itself what that user may see. Stock levels are shown to visitors who
 * are not signed in, so they are read with the storefront's own service
 * token, which the gateway issues for calling inventory (client credentials).
 * Logging in is the gateway's (it issues tokens): the one call that goes
 * through GATEWAY_URL.
 */
import {
  createServiceClient, createServiceTokens, HttpProblem, UpstreamError,
} from '@polyshop/common';
import { SERVICE } from './config.js';

/** Wrong user name or password: the login form says so. */
export class LoginRefused extends Error {}

export function createBackends({ discovery, config, logger }) {
  const client = (service) => createServiceClient({
    discovery, service, timeoutMs: config.backendTimeoutMs, logger,
  });
  const services = {
    catalog: client('catalog'),
    inventory: client('inventory'),
    orders: client('orders'),
    notifications: client('notifications'),
  };
  const serviceTokens = createServiceTokens({
    issuer: config.authIssuer, clientId: SERVICE, clientSecret: config.authClientSecret,
    auth: config.auth, logger,
  });
  const as = (token) => ({ authorization: `Bearer ${token}` });

  return {
    languageOf: (service) => discovery.instances(service)[0]?.metadata?.language ?? null,
    products: () => services.catalog.getJson('/products'),
    product: (sku) => services.catalog.getJson(`/products/${encodeURIComponent(sku)}`),
    stock: async () => services.inventory.getJson('/stock', {
      headers: as(await serviceTokens.tokenFor('inventory')),
    }),
    placeOrder: (token, items, key) => services.orders.postJson('/orders', { items }, {
      headers: { ...as(token), 'idempotency-key': key },
    }),
    order: (token, id) => services.orders.getJson(`/orders/${encodeURIComponent(id)}`, {
      headers: as(token),
    }),
    myOrders: (token) => services.orders.getJson('/orders?limit=50', { headers: as(token) }),
    myNotifications: (token) => services.notifications.getJson('/notifications?limit=50', {
      headers: as(token),
    }),
    login: (username, password) => login(config.gatewayUrl, username, password, config),
  };
}

async function login(gatewayUrl, username, password, { backendTimeoutMs }) {
  const response = await fetch(`${gatewayUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username, password }),
    signal: AbortSignal.timeout(backendTimeoutMs),
  });
  if (response.status === 401) throw new LoginRefused();
  if (response.status === 429) {
    throw new HttpProblem(429, 'Too Many Requests', 'Too many log-in attempts; wait a moment.', {
      headers: { 'Retry-After': response.headers.get('retry-after') ?? '5' },
    });
  }
  if (!response.ok) throw new UpstreamError('gateway', response.status, await response.text());
  const { access_token: token, expires_in: expiresIn } = await response.json();
  return { token, expiresIn };
}
