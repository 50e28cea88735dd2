/**
 * Calling another service through client-side discovery.
 *
 * The instances come from the discovery cache (no registry call on the
 * request path), taken in turn (round robin). A call that cannot reach its
 * instance (refused, reset, timed out) is tried once more on another one;
 * an instance that answered, even with an error status, has answered, and
 * its answer is the caller's to judge (`UpstreamError`). An answer broken
 * off before its body came whole counts as no answer.
 *
 * Calls go through `node:http` with kept-alive connections, not `fetch`:
 * undici's fetch and `AbortSignal.timeout` cost notifications a quarter of
 * its CPU per order, and a `DOMException` per call when the unneeded timer
 * fired, which grew its heap under load (docs/benchmarks/profile.md).
 */
import http from 'node:http';
import { TransientError } from './errors.js';

/** No instance of the service is known, or none of those tried answered. */
export class ServiceUnavailable extends TransientError {
  constructor(service, detail, { cause } = {}) {
    super(`${service} unavailable: ${detail}`, { cause });
    this.service = service;
    this.status = 503;
  }
}

/**
 * The instance answered with a status other than 2xx. A 5xx or 429 is
 * `transient` (worth trying again later); a 4xx is the answer.
 */
export class UpstreamError extends Error {
  constructor(service, status, body) {
    super(`${service} answered ${status}`);
    this.name = 'UpstreamError';
    this.service = service;
    this.status = status;
    this.body = body;
    this.transient = status >= 500 || status === 429;
  }
}

const ATTEMPTS = 2;

/**
 * @param {object} options
 * @param {{instances: (name: string) => object[]}} options.discovery from createDiscovery()
 * @param {string} options.service the service to call, e.g. 'orders'
 * @param {number} [options.timeoutMs] per attempt
 */
export function createServiceClient({ discovery, service, timeoutMs = 2000, logger }) {
  return new ServiceClient({ discovery, service, timeoutMs, logger });
}

export class ServiceClient {
  #discovery; #service; #timeoutMs; #log;
  #next = 0;
  #agent = new http.Agent({ keepAlive: true });

  constructor({ discovery, service, timeoutMs, logger }) {
    this.#discovery = discovery;
    this.#service = service;
    this.#timeoutMs = timeoutMs;
    this.#log = logger.child({ component: 'service-client', target: service });
  }

  /**
   * GET `path` on an instance and parse its JSON answer.
   * @returns {Promise<any>} the body of a 2xx answer
   * @throws {UpstreamError} the instance answered with another status
   * @throws {ServiceUnavailable} no instance, or none of those tried answered
   */
  getJson(path, { headers = {} } = {}) {
    return this.#send('GET', path, { headers, attempts: ATTEMPTS });
  }

  /**
   * POST a JSON body and parse the JSON answer. Sent to a second instance
   * only when the first did not answer and the request carries an
   * Idempotency-Key: the service then makes one order of the two attempts.
   */
  postJson(path, body, { headers = {} } = {}) {
    const idempotent = Object.keys(headers).some((name) => name.toLowerCase() === 'idempotency-key');
    return this.#send('POST', path, {
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      attempts: idempotent ? ATTEMPTS : 1,
    });
  }

  async #send(method, path, { headers, body, attempts }) {
    const candidates = this.#pick(attempts);
    if (candidates.length === 0) {
      throw new ServiceUnavailable(this.#service, 'no live instance in the registry');
    }
    let lastError;
    for (const instance of candidates) {
      const url = `http://${instance.host}:${instance.port}${path}`;
      let answer;
      try {
        answer = await exchange(url, {
          method,
          headers: { accept: 'application/json', ...headers },
          body,
          agent: this.#agent,
          timeoutMs: this.#timeoutMs,
        });
      } catch (error) {
        lastError = error;
        const instanceId = instance.instance_id;
        this.#log.warn({ err: error, instance_id: instanceId }, 'instance did not answer');
        continue;
      }
      return readAnswer(this.#service, answer);
    }
    throw new ServiceUnavailable(this.#service, 'no instance answered', { cause: lastError });
  }

  /** Close the kept-alive connections (a service that stops). */
  close() {
    this.#agent.destroy();
  }

  // Up to `count` different instances, starting with the next in turn.
  #pick(count) {
    const instances = this.#discovery.instances(this.#service);
    if (instances.length === 0) return [];
    const start = this.#next++ % instances.length;
    const rotated = [...instances.slice(start), ...instances.slice(0, start)];
    return rotated.slice(0, count);
  }
}

/**
 * One request and its whole answer, or an error: refused, reset, broken off,
 * or no whole answer within `timeoutMs`.
 * @returns {Promise<{status: number, text: string}>}
 */
function exchange(url, { method, headers, body, agent, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        if (!response.complete) {
          reject(new Error('the answer was broken off'));
          return;
        }
        resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', fail);
    });
    const timer = setTimeout(() => {
      request.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    function fail(error) {
      clearTimeout(timer);
      reject(error);
    }
    request.on('error', fail);
    request.end(body);
  });
}

function readAnswer(service, { status, text }) {
  const ok = status >= 200 && status < 300;
  let body;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (an error page from a proxy, say): an answer, but not a usable one.
    throw new UpstreamError(service, status, text.slice(0, 500));
  }
  if (!ok) throw new UpstreamError(service, status, body);
  return body;
}
