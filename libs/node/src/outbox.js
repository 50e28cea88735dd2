/**
 * A transactional outbox: events to publish are rows written in the same
 * SQLite transaction as the change that causes them; a relay publishes them.
 *
 * Why not produce straight from the handler? A consumer that changes its
 * database and then produces has two places to fail between:
 *   - produce first, then commit: a crash in between publishes an event
 *     about a change that never happened (stock "reserved" but not held);
 *   - commit first, then produce: a crash in between loses the event for
 *     good, because the redelivered input finds its id in processed_events
 *     and does nothing, so nobody ever produces it again.
 * Writing the event as a row inside the handler's transaction removes the
 * gap: the change and "this must be published" become durable together. The
 * relay then publishes rows in order and marks them sent. A crash between
 * the publish and the mark publishes that row again on restart, with the
 * same event id; consumers are idempotent by that id, so at-least-once here
 * is exactly-once in effect.
 *
 * Several instances of a service may share its database file (scaled
 * containers, local instances with one DATA_DIR), each with a relay. Two
 * relays reading the same unsent rows would publish them twice and mix up
 * the order of one order's events, so a relay publishes only while it holds
 * the outbox lease, the one row of `outbox_lease`: it takes or renews it
 * before each pass, and marks rows sent only while the lease is still its
 * own. A relay that stops hands the lease back; one that dies loses it when
 * it expires. See docs/adr/0008-one-relay-per-outbox.md.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from './backoff.js';
import { newEvent } from './events.js';
import { DUPLICATE_EVENTS, isOn, STOP_OUTBOX_RELAY } from './faults.js';
import { sendRecords } from './kafka-spans.js';
import { watchOutbox } from './metrics.js';
import { carrier, contextOf } from './telemetry.js';

// Renewed at every pass and idle tick, a fraction of a second apart: only a
// relay that died (or hangs) lets it run out.
export const LEASE_MS = 5000;

export const OUTBOX_TABLE = `
  CREATE TABLE IF NOT EXISTS outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    topic      TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    headers    TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    sent_at    TEXT
  );
  CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL`;

// expires_at: milliseconds since the epoch, compared with the clocks of the
// relays sharing the file (one host, one clock).
export const OUTBOX_LEASE_TABLE = `
  CREATE TABLE IF NOT EXISTS outbox_lease (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  )`;

/**
 * Records an event to publish. Call it inside the transaction of the change.
 * The row keeps the W3C context active now (`traceparent`, `tracestate`:
 * the request's or the handled record's span), which the relay's `send`
 * span continues, however much later it publishes.
 * @param {import('better-sqlite3').Database} tx
 * @param {{topic: string, key: string, event: object, headers?: Record<string, string>}} entry
 */
export function addToOutbox(tx, { topic, key, event, headers = {} }) {
  const stored = JSON.stringify({ ...headers, ...carrier() });
  tx.prepare(
    'INSERT INTO outbox (topic, key, value, headers, created_at) VALUES (?, ?, ?, ?, ?)',
  ).run(topic, key, JSON.stringify(event), stored, new Date().toISOString());
}

/**
 * Emits an event from a consumer's handler: a new event checked against its
 * contract, recorded in the outbox inside the handler's transaction, keyed
 * by its subject (the order id, so one order's events keep their order).
 * The trace goes on: the event emitted belongs to the trace of the one
 * being handled (the `process` span active while the handler runs).
 *
 * @param {import('better-sqlite3').Database} tx the handler's transaction
 * @param {{contracts: import('./events.js').Contracts}} context the consumer's
 * @param {{type: string, source: string, subject: string, data: object}} what
 * @returns {object} the event
 */
export function emitEvent(tx, { contracts }, { type, source, subject, data }) {
  const event = contracts.validate(newEvent(type, source, subject, data));
  addToOutbox(tx, { topic: contracts.topicOf(type), key: subject, event });
  return event;
}

/** @returns {object[]} rows not yet published, oldest first */
export function unsentRows(db, limit = 100) {
  return db.prepare('SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?').all(limit);
}

/** Marks rows sent if `holder` still holds the lease; false, marking nothing, if not. */
export function markSent(db, ids, holder) {
  const mark = db.prepare('UPDATE outbox SET sent_at = ? WHERE id = ?');
  return db.transaction(() => {
    if (leaseHolder(db) !== holder) return false;
    const sentAt = new Date().toISOString();
    for (const id of ids) mark.run(sentAt, id);
    return true;
  }).immediate();
}

/** Unique to one relay, and says which process it is: host/pid/random. */
export function newHolderId() {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

/** @returns {string|null} */
export function leaseHolder(db) {
  return db.prepare('SELECT holder FROM outbox_lease WHERE id = 1').get()?.holder ?? null;
}

/**
 * Takes or renews the lease, unless another holder's has not expired.
 * BEGIN IMMEDIATE makes the read and the write one step: two relays cannot
 * both find the lease free.
 * @returns {string} who holds the lease now
 */
export function takeLease(db, holder, nowMs, ttlMs) {
  return db.transaction(() => {
    const lease = db.prepare('SELECT holder, expires_at FROM outbox_lease WHERE id = 1').get();
    if (lease && lease.holder !== holder && lease.expires_at > nowMs) return lease.holder;
    db.prepare('INSERT OR REPLACE INTO outbox_lease (id, holder, expires_at) VALUES (1, ?, ?)')
      .run(holder, nowMs + ttlMs);
    return holder;
  }).immediate();
}

export function releaseLease(db, holder) {
  db.transaction(() => {
    db.prepare('DELETE FROM outbox_lease WHERE id = 1 AND holder = ?').run(holder);
  }).immediate();
}

export function createOutboxRelay({
  db, producer, logger, intervalMs = 500, batchSize = 100, leaseMs = LEASE_MS, clock = Date.now,
}) {
  return new OutboxRelay({ db, producer, logger, intervalMs, batchSize, leaseMs, clock });
}

export class OutboxRelay {
  #db; #producer; #log; #intervalMs; #batchSize; #leaseMs; #clock;
  #loop = null;
  #stopping = false;
  #wakeUp = () => {};
  #failures = 0;
  #seenHolder = null; // of the lease, when this relay last looked
  holder = newHolderId();

  constructor({ db, producer, logger, intervalMs, batchSize, leaseMs, clock }) {
    this.#db = db;
    this.#producer = producer;
    this.#log = logger.child({ component: 'outbox-relay' });
    this.#intervalMs = intervalMs;
    this.#batchSize = batchSize;
    this.#leaseMs = leaseMs;
    this.#clock = clock;
    db.exec(OUTBOX_TABLE);
    db.exec(OUTBOX_LEASE_TABLE);
    // Every service with an outbox serves its backlog at /metrics.
    watchOutbox(db);
  }

  /** For logs and operators only: readiness never depends on it. */
  get holdsLease() {
    return this.#seenHolder === this.holder;
  }

  start() {
    this.#loop ??= this.#run();
  }

  /** Publish soon: call after a transaction that added rows. */
  wake() {
    this.#wakeUp();
  }

  async stop() {
    this.#stopping = true;
    this.#wakeUp();
    await this.#loop;
  }

  /**
   * Publishes unsent rows in order until none is left; nothing while another
   * relay holds the lease. Stops at the first group Kafka does not take
   * (throwing), so a later row never overtakes an earlier one.
   * @returns {Promise<number>} how many went out
   */
  async publishPending() {
    if (isOn(STOP_OUTBOX_RELAY)) return 0; // rows wait in the outbox, as while Kafka is away
    let published = 0;
    while (!this.#stopping && this.#renewLease()) {
      const rows = unsentRows(this.#db, this.#batchSize);
      if (rows.length === 0) break;
      published += await this.#publish(rows);
    }
    return published;
  }

  async #run() {
    while (!this.#stopping) {
      try {
        await this.publishPending();
        if (this.#failures > 0) this.#log.info('publishing again');
        this.#failures = 0;
      } catch (error) {
        if (this.#failures === 0) this.#log.warn({ err: error }, 'cannot publish, will retry');
        await this.#idle(backoffDelay(this.#failures++) * 1000);
        continue;
      }
      await this.#idle(this.#intervalMs);
    }
    this.#releaseLease();
  }

  // In id order; consecutive rows of one topic go in one request. Each
  // group is marked sent as soon as Kafka acknowledged it. Each row's `send`
  // span is a child of the context the row was written in.
  async #publish(rows) {
    let published = 0;
    const copies = isOn(DUPLICATE_EVENTS) ? 2 : 1; // consumers must drop the second
    for (const group of consecutiveByTopic(rows)) {
      await sendRecords(this.#producer, {
        topic: group[0].topic,
        acks: -1,
        records: group.flatMap((row) => {
          const headers = JSON.parse(row.headers);
          return Array.from({ length: copies }, () => ({
            key: row.key, value: row.value, headers: { ...headers }, parent: contextOf(headers),
          }));
        }),
      });
      if (!markSent(this.#db, group.map((row) => row.id), this.holder)) {
        // The pass outlasted the lease and another relay took it: it publishes
        // these rows again (consumers drop the copies by event id).
        this.#see(leaseHolder(this.#db));
        return published;
      }
      published += group.length;
      this.#log.debug({ topic: group[0].topic, count: group.length }, 'published');
    }
    return published;
  }

  #renewLease() {
    this.#see(takeLease(this.#db, this.holder, this.#clock(), this.#leaseMs));
    return this.holdsLease;
  }

  /** Logs when the lease changes hands, as this relay sees it. */
  #see(holder) {
    if (holder === this.#seenHolder) return;
    if (holder === this.holder) {
      this.#log.info({ holder }, 'took the outbox lease');
    } else if (this.holdsLease) {
      this.#log.warn({ holder: this.holder, heldBy: holder }, 'lost the outbox lease');
    } else if (holder !== null) {
      this.#log.info({ heldBy: holder }, 'another relay holds the outbox lease');
    }
    this.#seenHolder = holder;
  }

  #releaseLease() {
    const held = this.holdsLease;
    try {
      releaseLease(this.#db, this.holder);
    } catch (error) {
      this.#log.warn({ err: error }, 'outbox lease not released, it will expire');
      return;
    }
    this.#seenHolder = null;
    if (held) this.#log.info({ holder: this.holder }, 'released the outbox lease');
  }

  async #idle(ms) {
    if (this.#stopping) return;
    const aborter = new AbortController();
    this.#wakeUp = () => aborter.abort();
    await sleep(ms, undefined, { signal: aborter.signal }).catch(() => undefined);
    this.#wakeUp = () => {};
  }
}

function consecutiveByTopic(rows) {
  const groups = [];
  for (const row of rows) {
    const last = groups.at(-1);
    if (last && last[0].topic === row.topic) last.push(row);
    else groups.push([row]);
  }
  return groups;
}
