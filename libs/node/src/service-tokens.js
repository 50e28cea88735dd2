/**
 * Tokens for calling other services, from the gateway (OAuth 2.0 client
 * credentials, RFC 6749 section 4.4): the service proves who it is with its
 * own AUTH_CLIENT_SECRET and gets a short-lived token for one callee
 * (`aud` service:CALLEE, `sub` service:THIS). A service never signs a token
 * itself, so a leaked service secret cannot make a user's token, and the
 * gateway decides which service may call which.
 *
 * A token is kept per audience and reused until shortly before it expires
 * (30 s, or a quarter of its life if that is shorter), so a busy consumer
 * asks the gateway about once every 90 s, not once per event. Callers that
 * need the same token at the same moment share one request. A failure is
 * thrown, never kept: the next call asks again.
 */
import { readAuthContract } from './events.js';
import { issuerMetadata } from './issuer.js';
import { untraced } from './telemetry.js';

const REFRESH_MARGIN_MS = 30000;

/** No token could be had; `transient` when asking again later may help. */
export class ServiceTokenError extends Error {
  constructor(message, { transient, status, cause } = {}) {
    super(message, { cause });
    this.name = 'ServiceTokenError';
    this.transient = transient;
    this.status = status;
  }
}

/**
 * @param {object} options
 * @param {string} options.issuer AUTH_ISSUER
 * @param {string} options.clientId this service's name
 * @param {string} options.clientSecret AUTH_CLIENT_SECRET
 * @param {import('pino').Logger} options.logger
 * @param {object} [options.auth] contracts/auth.json (read from the contracts when not given)
 * @param {number} [options.timeoutMs] bound on one request to the issuer
 * @param {() => number} [options.now] the clock, in ms (tests)
 * @returns {{tokenFor: (audience: string) => Promise<string>}} audience: the callee's name
 */
export function createServiceTokens({
  issuer, clientId, clientSecret, logger, auth = readAuthContract(), timeoutMs = 5000, now = Date.now,
}) {
  if (!clientSecret) throw new TypeError('service tokens need the service\'s AUTH_CLIENT_SECRET');
  const log = logger.child({ component: 'service-tokens' });
  const metadata = issuerMetadata(issuer, { metadataPath: auth.metadata_path, timeoutMs });
  const credentials = basicCredentials(clientId, clientSecret);
  const kept = new Map();
  const asking = new Map();

  async function ask(audience) {
    const askedAt = now();
    try {
      const { token_endpoint: endpoint } = await metadata();
      const { token, lifetimeMs } = await requestToken(endpoint, { credentials, audience, timeoutMs });
      const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 4);
      kept.set(audience, { token, renewAt: askedAt + lifetimeMs - margin });
      log.debug({ audience, expires_in: lifetimeMs / 1000 }, 'service token obtained');
      return token;
    } catch (error) {
      kept.delete(audience);
      log.warn({ err: error, audience }, 'no service token');
      if (error instanceof ServiceTokenError) throw error;
      throw new ServiceTokenError(`no token for calling ${audience}: ${error.message}`, {
        transient: true, cause: error,
      });
    }
  }

  return {
    tokenFor(audience) {
      const held = kept.get(audience);
      if (held && now() < held.renewAt) return Promise.resolve(held.token);
      if (!asking.has(audience)) {
        asking.set(audience, ask(audience).finally(() => asking.delete(audience)));
      }
      return asking.get(audience);
    },
  };
}

// RFC 6749 section 2.3.1: both parts form-encoded, then joined and base64-encoded.
function basicCredentials(clientId, clientSecret) {
  const encode = (value) => new URLSearchParams({ v: value }).toString().slice('v='.length);
  return Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64');
}

// Untraced: fetching a token is housekeeping, not part of the call it is for.
async function requestToken(endpoint, { credentials, audience, timeoutMs }) {
  const response = await untraced(() => fetch(endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${credentials}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience }),
    signal: AbortSignal.timeout(timeoutMs),
  }));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const why = body.detail ?? body.title ?? '';
    const message = `the issuer refused a token for calling ${audience}: ${response.status} ${why}`;
    throw new ServiceTokenError(message.trim(), {
      transient: response.status >= 500 || response.status === 429, status: response.status,
    });
  }
  const { access_token: token, token_type: type, expires_in: expiresIn } = body;
  if (typeof token !== 'string' || !/^bearer$/i.test(type) || !(expiresIn > 0)) {
    throw new ServiceTokenError(`the issuer's answer for calling ${audience} is not a bearer token`, {
      transient: false, status: response.status,
    });
  }
  return { token, lifetimeMs: expiresIn * 1000 };
}
