/**
 * Keeping one instance registered: register, heartbeat, re-register, leave.
 *
 * `start()` returns at once; a background loop registers (retrying with
 * backoff until the registry answers), then heartbeats every third of the
 * lease. A 404 on a heartbeat means the registry forgot us (lease expired, or
 * it restarted): register again at once. While the registry is unreachable
 * the heartbeat keeps its interval, never slower, so a restarted registry is
 * healed within one interval.
 *
 * The loop's timer is deliberately NOT unref'd: a registered instance
 * promises the registry it is alive, and that promise must not end because
 * the event loop happened to have nothing else to do. The owner ends it with
 * `close()`, from its shutdown handler.
 */
import { backoffDelay } from '../backoff.js';
import { isOn, STOP_HEARTBEATS } from '../faults.js';
import { RegistryError } from './api.js';

const DEREGISTER_TIMEOUT_MS = 2000;

export function createRegistration({
  api, service, host, port, instanceId, healthUrl, metadata, logger,
}) {
  const id = instanceId ?? `${service}-${host}-${port}`;
  const body = { instance_id: id, host, port };
  if (healthUrl) body.health_url = healthUrl;
  if (metadata && Object.keys(metadata).length > 0) body.metadata = metadata;
  return new Registration({ api, service, body, logger });
}

export class Registration {
  #api;
  #service;
  #body;
  #log;
  #aborter = new AbortController();
  #waiters = new Set();
  #started = false;
  #closed = false;
  #registered = false;
  #timer = null;
  #step = null;
  #heartbeatMs = null;
  #failures = 0;

  constructor({ api, service, body, logger }) {
    this.#api = api;
    this.#service = service;
    this.#body = body;
    this.#log = logger.child({ component: 'registration', instance_id: body.instance_id });
  }

  get instanceId() {
    return this.#body.instance_id;
  }

  /** True from the registry's 201 until a heartbeat meets a 404, or close(). */
  get isRegistered() {
    return this.#registered;
  }

  start() {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** @returns {Promise<boolean>} true once registered, false after `timeoutMs` */
  waitRegistered(timeoutMs) {
    if (this.#registered) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value) => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve(value);
      };
      const timer = setTimeout(done, timeoutMs, false);
      this.#waiters.add(done);
    });
  }

  /** Stop the loop, then leave the registry (best effort, bounded). */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    // Abort a call in flight, so a late 201 cannot re-register us after the DELETE.
    this.#aborter.abort();
    await this.#step;
    this.#wakeWaiters(false);
    if (this.#started) await this.#deregister();
  }

  #schedule(delayMs) {
    if (this.#closed || delayMs === null) return;
    this.#timer = setTimeout(() => this.#runStep(), delayMs);
  }

  async #runStep() {
    this.#step = this.#registered ? this.#heartbeat() : this.#register();
    const nextDelayMs = await this.#step;
    this.#step = null;
    this.#schedule(nextDelayMs);
  }

  /** @returns {Promise<number|null>} ms until the next step; null once closed */
  async #register() {
    try {
      const signal = this.#aborter.signal;
      const lease = await this.#api.register(this.#service, this.#body, { signal });
      this.#heartbeatMs = (lease.lease_ttl_seconds * 1000) / 3;
    } catch (error) {
      if (this.#closed) return null;
      // One warning per outage; every retry after it would only add noise.
      if (this.#failures === 0) {
        this.#log.warn({ err: error }, 'registry not answering, will retry');
      }
      return backoffDelay(this.#failures++) * 1000;
    }
    this.#failures = 0;
    this.#registered = true;
    this.#log.info({ heartbeat_ms: this.#heartbeatMs }, 'registered');
    this.#wakeWaiters(true);
    return this.#heartbeatMs;
  }

  async #heartbeat() {
    // The lease runs out and the registry evicts this instance.
    if (isOn(STOP_HEARTBEATS)) return this.#heartbeatMs;
    const startedAt = Date.now();
    try {
      await this.#api.heartbeat(this.#service, this.instanceId, { signal: this.#aborter.signal });
      if (this.#failures > 0) this.#log.info('heartbeat answered again');
      this.#failures = 0;
    } catch (error) {
      if (this.#closed) return null;
      if (error instanceof RegistryError && error.status === 404) {
        // The registry answered, so any outage is over: register at once.
        this.#log.info('registry does not know this instance, registering again');
        this.#registered = false;
        this.#failures = 0;
        return this.#register();
      }
      if (this.#failures++ === 0) {
        this.#log.warn({ err: error }, 'heartbeat failed, keeping the interval');
      }
    }
    // Count the interval from the start of this beat: a slow or timed-out
    // call must not stretch the gap between two beats.
    return Math.max(0, this.#heartbeatMs - (Date.now() - startedAt));
  }

  #wakeWaiters(value) {
    for (const done of this.#waiters) done(value);
  }

  async #deregister() {
    try {
      const timeoutMs = DEREGISTER_TIMEOUT_MS;
      await this.#api.deregister(this.#service, this.instanceId, { timeoutMs });
      this.#log.info('deregistered');
    } catch (error) {
      // The lease expires on its own; shutting down must not hang on this.
      this.#log.warn({ err: error }, 'could not deregister; the lease will expire');
    }
    this.#registered = false;
  }
}
