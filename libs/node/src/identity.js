/**
 * Who is calling: users (JWTs the gateway checked and forwarded unchanged)
 * and services (short-lived JWTs a calling service signs itself).
 *
 * A service trusts only a token it verifies itself, never a header like
 * X-User alone: a request sent to the service's port directly, past the
 * gateway, cannot claim to be anyone. Tokens are HS256 with JWT_SECRET and
 * must carry `sub` and `exp`; any other algorithm ("none" included) is
 * refused.
 */
import { jwtVerify, SignJWT } from 'jose';
import { HttpProblem } from './http.js';

const ALGORITHM = 'HS256';
const SERVICE_PREFIX = 'service:';

/** No token, or one that does not verify: answered 401 with WWW-Authenticate. */
export class Unauthenticated extends HttpProblem {
  constructor(detail, { invalidToken = false } = {}) {
    const challenge = invalidToken
      ? 'Bearer realm="polyshop", error="invalid_token"'
      : 'Bearer realm="polyshop"';
    super(401, 'Unauthorized', detail, { headers: { 'WWW-Authenticate': challenge } });
  }
}

function keyFrom(secret) {
  if (!secret) throw new Error('a JWT secret is required');
  return new TextEncoder().encode(secret);
}

/**
 * @param {string} token a compact JWT
 * @param {string} secret JWT_SECRET
 * @returns {Promise<{name: string, isService: boolean}>}
 * @throws {Unauthenticated} when the token does not verify
 */
export async function verifyToken(token, secret) {
  try {
    const { payload } = await jwtVerify(token, keyFrom(secret), {
      algorithms: [ALGORITHM],
      requiredClaims: ['sub', 'exp'],
    });
    return { name: payload.sub, isService: payload.sub.startsWith(SERVICE_PREFIX) };
  } catch (error) {
    throw new Unauthenticated(`the bearer token is not valid: ${error.code ?? error.message}`, {
      invalidToken: true,
    });
  }
}

/** The bearer token of an Authorization header value, or null. */
export function bearerToken(header) {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1] : null;
}

/**
 * A token for calling another service as `service:NAME`.
 * @returns {Promise<string>}
 */
export function serviceToken(serviceName, secret, ttlSeconds = 60) {
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(`${SERVICE_PREFIX}${serviceName}`)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keyFrom(secret));
}

/**
 * A user token, as the gateway issues them; for tests and tools.
 * @returns {Promise<string>}
 */
export function userToken(username, secret, ttlSeconds = 3600) {
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(username)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keyFrom(secret));
}

/**
 * Express middleware: verifies the bearer token and sets `req.principal`
 * ({name, isService}); a missing or bad token ends in a 401 problem.
 *
 * @param {string} secret JWT_SECRET
 */
export function requirePrincipal(secret) {
  keyFrom(secret);
  return async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) throw new Unauthenticated('a bearer token is required');
    req.principal = await verifyToken(token, secret);
    next();
  };
}
