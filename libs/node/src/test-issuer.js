/**
 * A token issuer for tests (`@polyshop/common/testing`): the gateway's token
 * side on a real HTTP server on port 0, with an Ed25519 key of its own. It
 * serves the metadata, the key set and the client-credentials endpoint as
 * contracts/auth.json says, so a service under test fetches keys and asks
 * for tokens exactly as it does in the shop. It also signs what the gateway
 * never would (another key, issuer, audience, lifetime or algorithm), for
 * the tests that check such tokens are refused.
 */
import { once } from 'node:events';
import http from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT,
} from 'jose';
import { readAuthContract } from './events.js';

/** A random secret of 32 bytes, as base64url (43 characters). */
export function randomSecret() {
  return randomBytes(32).toString('base64url');
}

/** An Ed25519 private key no issuer publishes: a forger's, for `sign(claims, { key })`. */
export async function strangerKey() {
  return (await generateKeyPair('Ed25519')).privateKey;
}

/**
 * @param {object} [options]
 * @param {Record<string, {secret?: string, audiences?: string[]}>} [options.clients] who may ask
 *   for service tokens (client id = service name) and for which callees; a secret is made
 *   up when not given (`clientSecret(id)`)
 * @returns {Promise<TestIssuer>} listening; `stop()` it after the tests
 */
export async function startTestIssuer({ clients = {}, auth = readAuthContract() } = {}) {
  const issuer = new TestIssuer({ clients, auth });
  await issuer.start();
  return issuer;
}

export class TestIssuer {
  /** The issuer URL: AUTH_ISSUER for the services under test. */
  url;
  /** How many requests each endpoint has answered. */
  requests = { metadata: 0, jwks: 0, token: 0 };
  /** false: every request is answered 503, as by a gateway that is starting or overloaded. */
  available = true;
  #auth; #clients; #server;
  #keys = [];

  constructor({ clients, auth }) {
    this.#auth = auth;
    this.#clients = new Map(Object.entries(clients).map(([id, client]) => (
      [id, { secret: client.secret ?? randomSecret(), audiences: client.audiences ?? [] }]
    )));
  }

  async start() {
    await this.rotateKey();
    this.#server = http.createServer((req, res) => {
      this.#answer(req, res).catch(() => problem(res, 500, 'Internal Server Error'));
    });
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.url = `http://127.0.0.1:${this.#server.address().port}`;
  }

  async stop() {
    if (!this.#server?.listening) return;
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  /**
   * Signs with a new key from now on, as a gateway does when its key is
   * rotated. The old keys stay in the key set unless `dropOld`.
   * @returns {Promise<string>} the new key's kid
   */
  async rotateKey({ dropOld = false } = {}) {
    const { publicKey, privateKey } = await generateKeyPair('Ed25519', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const key = { kid, privateKey, jwk: { ...jwk, kid, alg: this.#auth.algorithm, use: 'sig' } };
    this.#keys = dropOld ? [key] : [...this.#keys, key];
    return kid;
  }

  clientSecret(clientId) {
    return this.#clients.get(clientId).secret;
  }

  /** A user's token as the gateway issues it at log-in. */
  userToken(name, { lifetimeSeconds = this.#auth.max_user_token_seconds } = {}) {
    return this.sign({ sub: name, aud: this.#auth.user_audience }, { lifetimeSeconds });
  }

  /** A service token as POST /oauth/token issues it: `caller` calling `callee`. */
  serviceToken(caller, callee) {
    const prefix = this.#auth.service_prefix;
    return this.sign(
      { sub: `${prefix}${caller}`, aud: `${prefix}${callee}` },
      { lifetimeSeconds: this.#auth.service_token_seconds },
    );
  }

  /**
   * Any token. `claims` go over the defaults (iss this issuer, iat now, exp
   * iat + lifetimeSeconds); a claim set to undefined is left out. Signed
   * with the current key and its kid, unless given: `key` (another private
   * key, or an HMAC secret as bytes for alg HS256), `kid` (null: none),
   * `alg` ('none' makes an unsigned token).
   * @returns {Promise<string>} a compact JWS
   */
  async sign(claims, { lifetimeSeconds = 60, key, kid, alg = this.#auth.algorithm } = {}) {
    const current = this.#keys.at(-1);
    const iat = Math.floor(Date.now() / 1000);
    const payload = Object.fromEntries(Object.entries({
      iss: this.url, iat, exp: iat + lifetimeSeconds, ...claims,
    }).filter(([, value]) => value !== undefined));
    const header = { alg, typ: 'JWT', ...(kid === null ? {} : { kid: kid ?? current.kid }) };
    if (alg === 'none') {
      const part = (value) => base64url.encode(JSON.stringify(value));
      return `${part(header)}.${part(payload)}.`;
    }
    return new SignJWT(payload).setProtectedHeader(header).sign(key ?? current.privateKey);
  }

  async #answer(req, res) {
    const { pathname } = new URL(req.url, this.url);
    const auth = this.#auth;
    if (!this.available) return problem(res, 503, 'Service Unavailable');
    if (req.method === 'GET' && pathname === auth.metadata_path) {
      this.requests.metadata += 1;
      return json(res, 200, {
        issuer: this.url,
        jwks_uri: `${this.url}${auth.jwks_path}`,
        token_endpoint: `${this.url}${auth.service_token_path}`,
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
    }
    if (req.method === 'GET' && pathname === auth.jwks_path) {
      this.requests.jwks += 1;
      return json(res, 200, { keys: this.#keys.map((key) => key.jwk) });
    }
    if (req.method === 'POST' && pathname === auth.service_token_path) {
      this.requests.token += 1;
      return this.#issue(req, res);
    }
    return problem(res, 404, 'Not Found');
  }

  // The client-credentials grant: 401 an unknown client or wrong secret,
  // 400 a malformed request, 403 a callee the client may not call.
  async #issue(req, res) {
    const client = this.#client(req.headers.authorization);
    if (!client) {
      return problem(res, 401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="polyshop"' });
    }
    let body = '';
    for await (const chunk of req) body += chunk;
    const form = new URLSearchParams(body);
    const isForm = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded');
    if (!isForm || form.get('grant_type') !== 'client_credentials' || !form.get('audience')) {
      return problem(res, 400, 'Bad Request');
    }
    const audience = form.get('audience');
    if (!client.audiences.includes(audience)) return problem(res, 403, 'Forbidden');
    return json(res, 200, {
      access_token: await this.serviceToken(client.id, audience),
      token_type: 'Bearer',
      expires_in: this.#auth.service_token_seconds,
    });
  }

  #client(authorization) {
    const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return null;
    const decoded = Buffer.from(match[1], 'base64').toString();
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    const unform = (value) => new URLSearchParams(`v=${value}`).get('v');
    const [id, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)].map(unform);
    const client = this.#clients.get(id);
    return client && sameSecret(secret, client.secret) ? { id, ...client } : null;
  }
}

// Compared as hashes: equal lengths for timingSafeEqual, whatever was sent.
function sameSecret(given, expected) {
  const digest = (value) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function problem(res, status, title, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  res.end(JSON.stringify({ type: 'about:blank', title, status }));
}
