/**
 * Where the token issuer (the gateway) keeps its keys and its token
 * endpoint: its metadata, `AUTH_ISSUER + /.well-known/openid-configuration`
 * (RFC 8414). A verifier needs `jwks_uri`, a service asking for tokens
 * `token_endpoint`; both ask the issuer instead of guessing its paths.
 *
 * Fetched at the first need, not at start-up (a service starts while the
 * gateway is still starting), then kept: the addresses do not change while
 * the gateway runs. A failed fetch is not kept, so the next need tries again.
 */
import { TransientError } from './errors.js';
import { untraced } from './telemetry.js';

/** The issuer's metadata could not be fetched, or does not describe that issuer. */
export class IssuerUnavailable extends TransientError {}

/**
 * @param {string} issuer AUTH_ISSUER, e.g. http://127.0.0.1:8080
 * @param {object} options
 * @param {string} options.metadataPath contracts/auth.json's metadata_path
 * @param {number} [options.timeoutMs]
 * @returns {() => Promise<{issuer: string, jwks_uri: string, token_endpoint: string}>}
 */
export function issuerMetadata(issuer, { metadataPath, timeoutMs = 5000 }) {
  let pending = null;
  return () => {
    pending ??= fetchMetadata(`${issuer}${metadataPath}`, issuer, timeoutMs).catch((error) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}

async function fetchMetadata(url, issuer, timeoutMs) {
  let response;
  try {
    // Untraced, as the token fetches it serves are.
    response = await untraced(() => fetch(url, {
      headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs),
    }));
  } catch (cause) {
    throw new IssuerUnavailable(`the token issuer's metadata at ${url} cannot be fetched`, { cause });
  }
  if (response.status !== 200) {
    throw new IssuerUnavailable(`the token issuer's metadata at ${url} answered ${response.status}`);
  }
  const metadata = await response.json().catch(() => ({}));
  // RFC 8414 section 3.3: metadata that names another issuer is not this one's.
  if (metadata.issuer !== issuer) {
    throw new IssuerUnavailable(
      `the metadata at ${url} names the issuer "${metadata.issuer}", not "${issuer}"`,
    );
  }
  for (const field of ['jwks_uri', 'token_endpoint']) {
    if (!/^https?:\/\//.test(metadata[field] ?? '')) {
      throw new IssuerUnavailable(`the metadata at ${url} has no http(s) ${field}`);
    }
  }
  return Object.freeze(metadata);
}
