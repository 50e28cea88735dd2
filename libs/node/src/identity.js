/**
 * Who is calling: a user, with the token the gateway issued at log-in and
 * forwarded unchanged, or a service, with a token the gateway issued to it
 * for calling this service (client credentials, service-tokens.js).
 *
 * A service trusts only a token it verifies itself, never a header like
 * X-User alone: a request sent to the service's port directly, past the
 * gateway, cannot claim to be anyone. Only the gateway signs (Ed25519, JWS
 * alg EdDSA); services check with the public keys it publishes, so no
 * service holds anything that could mint a token. The keys are found
 * through the issuer's metadata (issuer.js) at the first token and kept;
 * a token signed with a key not seen yet (the gateway rotated its key)
 * makes jose fetch them again, at most once per cooldown.
 *
 * The rules (contracts/auth.json has the numbers, docs/security.md the why):
 * `iss` is AUTH_ISSUER, the algorithm EdDSA and nothing else, `sub`, `iat`
 * and `exp` are present, clocks may differ by the leeway. Then the token is
 * either a user's (`aud` polyshop, `sub` not `service:...`, at most an hour
 * long) or a service's for this service (`aud` service:THIS, `sub`
 * service:CALLER, at most five minutes long). Anything else is a 401 whose
 * detail says nothing of why: the reason goes to the debug log.
 *
 * A client sends the same token with every request until it expires, so
 * each verdict is kept (the last VERIFIED_TOKENS_KEPT tokens, by use) until
 * the token's own expiry plus the leeway: checking the signature again was
 * most of the cost of a request's authentication. A token accepted stays
 * accepted until then, even if its key leaves the issuer's set; the
 * lifetime cap bounds that, as it bounds a stolen token. The Python
 * library keeps verdicts alike.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { readAuthContract } from './events.js';
import { HttpProblem } from './http.js';
import { issuerMetadata } from './issuer.js';

// jose's failures that mean "this token is no good"; any other failure
// means the keys could not be fetched, which is not the caller's fault.
const TOKEN_FAULTS = new Set([
  'ERR_JOSE_ALG_NOT_ALLOWED', 'ERR_JOSE_NOT_SUPPORTED', 'ERR_JWS_INVALID', 'ERR_JWT_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JWT_EXPIRED', 'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

/** No token, or one that does not verify: answered 401 with WWW-Authenticate. */
export class Unauthenticated extends HttpProblem {
  constructor(detail, { invalidToken = false } = {}) {
    const challenge = invalidToken
      ? 'Bearer realm="polyshop", error="invalid_token"'
      : 'Bearer realm="polyshop"';
    super(401, 'Unauthorized', detail, { headers: { 'WWW-Authenticate': challenge } });
  }
}

/** The issuer's keys cannot be fetched now: nobody can be checked, try again shortly. */
export class KeysUnavailable extends HttpProblem {
  constructor() {
    super(503, 'Service Unavailable', 'tokens cannot be checked right now', {
      headers: { 'Retry-After': '5' },
    });
  }
}

// A rule of ours that a token breaks; its message is logged, never answered.
class Refused extends Error {}

const VERIFIED_TOKENS_KEPT = 1024;

/**
 * @param {object} options
 * @param {string} options.issuer AUTH_ISSUER
 * @param {string} options.service this service's name: service tokens must be for it
 * @param {import('pino').Logger} options.logger
 * @param {object} [options.auth] contracts/auth.json (read from the contracts when not given)
 * @param {number} [options.cooldownMs] the least time between two fetches of the keys
 *   for an unknown kid (jose's default: 30 s)
 * @param {() => number} [options.clock] now, in ms (the kept verdicts' clock)
 * @returns {{verify: (token: string) => Promise<{name: string, isService: boolean}>}}
 */
export function createTokenVerifier({
  issuer, service, logger, auth = readAuthContract(), cooldownMs = 30000, clock = Date.now,
}) {
  const log = logger.child({ component: 'identity' });
  const metadata = issuerMetadata(issuer, { metadataPath: auth.metadata_path });
  let keySet = null;
  const keys = () => {
    keySet ??= metadata().then(({ jwks_uri: jwksUri }) => (
      createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: cooldownMs })
    )).catch((error) => {
      keySet = null;
      throw error;
    });
    return keySet;
  };
  // A function, not the key set itself: jose checks the header (alg) first,
  // so a token refused on sight costs no fetch.
  const key = async (header, token) => (await keys())(header, token);
  const options = {
    issuer,
    // No service: a verifier of user tokens only, as the gateway's is.
    audience: service ? [auth.user_audience, `${auth.service_prefix}${service}`] : [auth.user_audience],
    algorithms: [auth.algorithm],
    clockTolerance: auth.leeway_seconds,
    requiredClaims: ['sub', 'iat', 'exp'],
  };

  // token -> { principal, validUntil (ms) }; a Map keeps insertion order,
  // so the first entry is the one used longest ago.
  const verified = new Map();
  const kept = (token) => {
    const entry = verified.get(token);
    if (entry === undefined) return undefined;
    verified.delete(token);
    if (clock() >= entry.validUntil) return undefined; // expired: jose says so, and why
    verified.set(token, entry);
    return entry.principal;
  };
  const keep = (token, principal, exp) => {
    // jose's rule, as PyJWT's: valid while now < exp + leeway.
    verified.set(token, { principal, validUntil: (exp + auth.leeway_seconds) * 1000 });
    if (verified.size > VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value);
  };

  return {
    async verify(token) {
      const known = kept(token);
      if (known !== undefined) return known;
      try {
        const { payload } = await jwtVerify(token, key, options);
        const principal = principalOf(payload, { service, auth });
        keep(token, principal, payload.exp);
        return principal;
      } catch (error) {
        if (error instanceof Refused || TOKEN_FAULTS.has(error.code)) {
          log.debug({ reason: error.message }, 'bearer token refused');
          throw new Unauthenticated('the bearer token is not valid', { invalidToken: true });
        }
        log.warn({ err: error }, 'the issuer\'s keys cannot be fetched');
        throw new KeysUnavailable();
      }
    },
  };
}

/** Which kind of token it is, by the rules above, and whether it keeps its kind's limits. */
function principalOf(payload, { service, auth }) {
  const { sub, aud, iat, exp } = payload;
  const prefix = auth.service_prefix;
  if (typeof sub !== 'string' || sub === '' || sub === prefix) throw new Refused('sub is not a name');
  const isService = sub.startsWith(prefix);
  // `aud` must be the one string: a token for several audiences at once (an
  // array) is not one the gateway issues, and equals none of them.
  let longest;
  if (aud === auth.user_audience && !isService) longest = auth.max_user_token_seconds;
  else if (service && aud === `${prefix}${service}` && isService) longest = auth.max_service_token_seconds;
  else throw new Refused(`a token for ${aud} with sub ${sub} is not accepted here`);
  if (exp - iat > longest) throw new Refused(`lives ${exp - iat} s, longer than ${longest} s`);
  // Issued in the future: exp alone would let it live past the cap.
  if (iat > Date.now() / 1000 + auth.leeway_seconds) throw new Refused('iat is in the future');
  return { name: sub, isService };
}

/** The bearer token of an Authorization header value, or null. */
export function bearerToken(header) {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1] : null;
}

/**
 * Express middleware: verifies the bearer token and sets `req.principal`
 * ({name, isService}); a missing or bad token ends in a 401 problem.
 *
 * @param {{verify: (token: string) => Promise<{name: string, isService: boolean}>}} verifier
 *   from createTokenVerifier
 */
export function requirePrincipal(verifier) {
  if (typeof verifier?.verify !== 'function') throw new TypeError('requirePrincipal needs a token verifier');
  return async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) throw new Unauthenticated('a bearer token is required');
    req.principal = await verifier.verify(token);
    next();
  };
}
