/**
 * The registry's HTTP API, one method per call.
 *
 * No retry policy lives here: the callers (registration, discovery) decide
 * what a failure means for them. Two kinds of failure reach them:
 * - the registry answered with an error status → `RegistryError` (`.status`);
 * - it did not answer (refused, reset, timed out) → the network error itself.
 *
 * With registries side by side (`baseUrl` naming several, separated by
 * commas), a call the current one cannot answer goes to the next, as in
 * Python.
 */
import { untraced } from '../telemetry.js';

/** The registry answered, but not with success. */
export class RegistryError extends Error {
  constructor(status, detail, problem = null) {
    super(`registry answered ${status}: ${detail}`);
    this.name = 'RegistryError';
    this.status = status;
    this.problem = problem;
  }
}

export class RegistryApi {
  /**
   * @param {object} options
   * @param {string} options.baseUrl e.g. http://127.0.0.1:8761, or several separated by commas
   * @param {string} [options.token] bearer token for writes; reads are open
   * @param {number} [options.timeoutMs] bound on every call (a long poll gets its wait on top)
   */
  constructor({ baseUrl, token, timeoutMs = 5000 }) {
    // Calls go to the first registry that answers, and stay with it while it does.
    this.baseUrls = baseUrl.split(',').map((url) => url.trim().replace(/\/+$/, '')).filter(Boolean);
    this.baseUrl = this.baseUrls[0];
    this.timeoutMs = timeoutMs;
    this.token = token;
  }

  /** @returns {Promise<{instance_id: string, lease_ttl_seconds: number}>} */
  async register(service, body, { signal } = {}) {
    const response = await this.#call('POST', instancesPath(service), { body, signal });
    return response.json();
  }

  async heartbeat(service, instanceId, { signal } = {}) {
    await this.#call('PUT', `${instancesPath(service, instanceId)}/heartbeat`, { signal });
  }

  /** @returns {Promise<boolean>} false when the registry did not know the instance */
  async deregister(service, instanceId, { timeoutMs, signal } = {}) {
    try {
      await this.#call('DELETE', instancesPath(service, instanceId), { timeoutMs, signal });
      return true;
    } catch (error) {
      // Already gone (expired, registry restarted): the goal is reached.
      if (error instanceof RegistryError && error.status === 404) return false;
      throw error;
    }
  }

  /**
   * Every service with its live instances, at once.
   *
   * @returns {Promise<{index: number|null, services: Record<string, object[]>}>}
   */
  async listServices({ signal } = {}) {
    const response = await this.#call('GET', '/v1/services', { signal });
    const { services } = await response.json();
    return { index: parseIndex(response.headers.get('x-registry-index')), services };
  }

  /**
   * A long poll: what changed after `index`, once something has or after
   * `waitSeconds`; null when the registry no longer knows (410).
   *
   * @returns {Promise<{index: number|null, changes: object[]}|null>} each change
   *   `{service, instance_id, instance}`, `instance` null when it is gone
   */
  async changesSince({ index, waitSeconds, signal }) {
    const query = new URLSearchParams({ since: String(index), wait: String(waitSeconds) });
    const timeoutMs = this.timeoutMs + waitSeconds * 1000;
    let response;
    // An index is one registry's own: another's could name other changes.
    // Asked only of the registry that gave it; after an error the caller
    // reads the whole list again, from whichever registry answers.
    try {
      response = await this.#call('GET', `/v1/services?${query}`, { timeoutMs, signal, failover: false });
    } catch (error) {
      if (error instanceof RegistryError && error.status === 410) return null;
      throw error;
    }
    const { changes } = await response.json();
    return { index: parseIndex(response.headers.get('x-registry-index')), changes };
  }

  /** @returns {Promise<object[]>} the instances the registry evicted lately (leases that ran out) */
  async listEvictions({ signal } = {}) {
    const response = await this.#call('GET', '/v1/evictions', { signal });
    return (await response.json()).evictions;
  }

  /**
   * The answer of the first registry up, trying each in turn from the one
   * that answered last; RegistryError if that one refused the call.
   */
  async #call(method, path, { failover = true, ...options } = {}) {
    const start = this.baseUrls.indexOf(this.baseUrl);
    const order = failover
      ? [...this.baseUrls.slice(start), ...this.baseUrls.slice(0, start)] : [this.baseUrl];
    for (const baseUrl of order.slice(0, -1)) {
      let response;
      try {
        response = await this.#request(method, baseUrl + path, options);
      } catch (error) {
        if (error instanceof TypeError) continue; // fetch's "did not answer"
        throw error; // a timeout or the caller's abort: not another registry's business
      }
      // A failing registry: another may not be.
      if (response.status < 500) return this.#answered(baseUrl, response);
    }
    const last = order.at(-1);
    return this.#answered(last, await this.#request(method, last + path, options));
  }

  #request(method, url, { body, timeoutMs = this.timeoutMs, signal } = {}) {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    // Registration, heartbeats and watches are no one's request: a span
    // each would start a trace every few seconds.
    return untraced(() => fetch(url, {
      method,
      headers: this.#headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any(signals),
    }));
  }

  async #answered(baseUrl, response) {
    this.baseUrl = baseUrl;
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  #headers(hasBody) {
    const headers = { accept: 'application/json' };
    if (hasBody) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return headers;
  }
}

/**
 * The path of a service's instances (or one of them), each name encoded as
 * one path segment: an id holding "/" or "?" cannot reach another path.
 */
export function instancesPath(service, instanceId) {
  const base = `/v1/services/${encodeURIComponent(service)}/instances`;
  return instanceId === undefined || instanceId === null
    ? base : `${base}/${encodeURIComponent(instanceId)}`;
}

function parseIndex(header) {
  const index = Number.parseInt(header ?? '', 10);
  return Number.isNaN(index) ? null : index;
}

// Errors are application/problem+json (RFC 9457); keep the detail for the
// log line, and the whole problem for callers that want more.
async function errorFrom(response) {
  const text = await response.text();
  let problem = null;
  try {
    problem = JSON.parse(text);
  } catch {
    return new RegistryError(response.status, text.slice(0, 200) || response.statusText);
  }
  const detail = problem?.detail || problem?.title || response.statusText;
  return new RegistryError(response.status, detail, problem);
}
