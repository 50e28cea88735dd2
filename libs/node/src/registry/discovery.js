/**
 * Finding instances from a local cache that a long poll keeps fresh.
 *
 * `instances(name)` never calls the network: a caller's request path (the
 * gateway, a service calling another) must not depend on the registry being
 * up. One background loop reads `GET /v1/services` once, then long-polls
 * `?since=INDEX` for only what changed and plays it onto its copy; it reads
 * the whole list again only when the registry no longer knows what changed
 * (a restart, a long outage). While the registry is unreachable the cache
 * keeps the last known instances.
 *
 * A registry that comes back after an outage may have restarted empty, and
 * fills up again as instances heartbeat and register anew (within one
 * heartbeat interval). For `rejoinGraceSeconds` after it answers again,
 * instances known before the outage keep their place beside what it answers,
 * so callers are not told "no instance" while the registry heals.
 *
 * Events: 'change' (services) when the registry's view moved on;
 * 'unavailable' (error) once at the start of an outage.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../backoff.js';

// Short retries: a cache that lags the registry sends callers to dead instances.
const RETRY_BACKOFF = { maximum: 2 };

export function createDiscovery({ api, waitSeconds = 30, rejoinGraceSeconds = 15, now, logger }) {
  return new Discovery({ api, waitSeconds, rejoinGraceSeconds, now, logger });
}

export class Discovery extends EventEmitter {
  #api;
  #waitSeconds;
  #rejoinGraceMs;
  #now;
  #log;
  #aborter = new AbortController();
  #listed = {}; // the registry's own view
  #services = {}; // what callers see: #listed, and during a grace more
  #index = null;
  #ready = false;
  #failures = 0;
  #loop = null;
  #knownBeforeOutage = {};
  #graceEndsAt = 0;

  constructor({
    api, waitSeconds = 30, rejoinGraceSeconds = 15, now = () => performance.now(), logger,
  }) {
    super();
    this.#api = api;
    this.#waitSeconds = waitSeconds;
    this.#rejoinGraceMs = rejoinGraceSeconds * 1000;
    this.#now = now;
    this.#log = logger.child({ component: 'discovery' });
  }

  /** True once the cache has been filled from the registry at least once. */
  get isReady() {
    return this.#ready;
  }

  /** @returns {object[]} live instances of `name` as last seen; [] if none */
  instances(name) {
    return [...(this.#services[name] ?? [])];
  }

  /** @returns {Record<string, object[]>} the whole cached view */
  services() {
    return { ...this.#services };
  }

  start() {
    this.#loop ??= this.#run();
  }

  /** @returns {Promise<boolean>} true once the cache is filled, false after `timeoutMs` */
  waitReady(timeoutMs) {
    if (this.#ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onChange = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.off('change', onChange);
        resolve(false);
      }, timeoutMs);
      this.once('change', onChange);
    });
  }

  /** Stop watching: aborts the long poll in flight. */
  async close() {
    this.#aborter.abort();
    await this.#loop;
  }

  async #run() {
    while (!this.#aborter.signal.aborted) {
      try {
        await this.#poll();
      } catch (error) {
        if (this.#aborter.signal.aborted) return;
        await this.#pause(error);
      }
    }
  }

  async #poll() {
    const index = await this.#read();
    if (this.#failures > 0) {
      this.#log.info('registry reachable again');
      this.#knownBeforeOutage = this.#services;
      this.#graceEndsAt = this.#now() + this.#rejoinGraceMs;
    }
    this.#failures = 0;
    const services = this.#withKnown(this.#listed);
    const moved = !this.#ready || index !== this.#index;
    this.#index = index;
    // One assignment: readers see the old view or the new one, never half.
    this.#services = services;
    this.#ready = true;
    if (moved) this.emit('change', services);
  }

  // Brings the registry's view up to date and returns its index: only what
  // changed after the index held, or the whole list when that cannot be had.
  async #read() {
    const { signal } = this.#aborter;
    if (this.#index !== null) {
      const waitSeconds = this.#pollSeconds();
      const delta = await this.#api.changesSince({ index: this.#index, waitSeconds, signal });
      if (delta !== null) {
        this.#listed = played(this.#listed, delta.changes);
        return delta.index;
      }
    }
    const { index, services } = await this.#api.listServices({ signal });
    this.#listed = services;
    return index;
  }

  // Long-poll seconds: during the grace, no longer than what is left of it,
  // so the registry's own view replaces the merged one when it ends.
  #pollSeconds() {
    const leftMs = this.#graceEndsAt - this.#now();
    if (leftMs <= 0) return this.#waitSeconds;
    return Math.min(this.#waitSeconds, Math.max(Math.ceil(leftMs / 1000), 1));
  }

  // The registry's answer, plus, during the grace after an outage, the
  // instances known before it that the registry does not list (yet).
  #withKnown(services) {
    if (this.#now() >= this.#graceEndsAt) return services;
    const merged = { ...services };
    for (const [name, known] of Object.entries(this.#knownBeforeOutage)) {
      const listed = new Set((merged[name] ?? []).map((instance) => instance.instance_id));
      const missing = known.filter((instance) => !listed.has(instance.instance_id));
      if (missing.length > 0) merged[name] = [...(merged[name] ?? []), ...missing];
    }
    return merged;
  }

  async #pause(error) {
    if (this.#failures === 0) {
      this.#log.warn({ err: error }, 'registry unreachable, serving cached instances');
      this.emit('unavailable', error);
    }
    // Ask without an index next time: after an outage the registry may have
    // restarted with a new index, and the first answer should come at once.
    this.#index = null;
    const delayMs = backoffDelay(this.#failures++, RETRY_BACKOFF) * 1000;
    // close() aborts the pause too; the loop then sees the signal and ends.
    await sleep(delayMs, undefined, { signal: this.#aborter.signal }).catch(() => undefined);
  }
}

/**
 * `services` with each change played onto it, as a new object (readers keep
 * the old one whole); each service's instances in the order a whole read
 * lists them, by id.
 */
export function played(services, changes) {
  const result = { ...services };
  for (const { service, instance_id: id, instance } of changes) {
    const kept = (result[service] ?? []).filter((known) => known.instance_id !== id);
    if (instance) {
      kept.push(instance);
      kept.sort(byId);
    }
    if (kept.length > 0) result[service] = kept;
    else delete result[service];
  }
  return result;
}

function byId(a, b) {
  if (a.instance_id === b.instance_id) return 0;
  return a.instance_id < b.instance_id ? -1 : 1;
}
