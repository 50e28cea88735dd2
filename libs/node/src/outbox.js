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
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from './backoff.js';
import { newEvent } from './events.js';

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

/**
 * Records an event to publish. Call it inside the transaction of the change.
 * @param {import('better-sqlite3').Database} tx
 * @param {{topic: string, key: string, event: object, headers?: Record<string, string>}} entry
 */
export function addToOutbox(tx, { topic, key, event, headers = {} }) {
  tx.prepare(
    'INSERT INTO outbox (topic, key, value, headers, created_at) VALUES (?, ?, ?, ?, ?)',
  ).run(topic, key, JSON.stringify(event), JSON.stringify(headers), new Date().toISOString());
}

/**
 * Emits an event from a consumer's handler: a new event checked against its
 * contract, recorded in the outbox inside the handler's transaction, keyed
 * by its subject (the order id, so one order's events keep their order).
 * The trace goes on: the event emitted belongs to the trace of the one
 * being handled (its `traceparent` header).
 *
 * @param {import('better-sqlite3').Database} tx the handler's transaction
 * @param {{contracts: import('./events.js').Contracts, headers?: object}} context the consumer's
 * @param {{type: string, source: string, subject: string, data: object}} what
 * @returns {object} the event
 */
export function emitEvent(tx, { contracts, headers = {} }, { type, source, subject, data }) {
  const event = contracts.validate(newEvent(type, source, subject, data));
  const traceparent = headers.traceparent?.toString();
  addToOutbox(tx, {
    topic: contracts.topicOf(type),
    key: subject,
    event,
    headers: traceparent ? { traceparent } : {},
  });
  return event;
}

/** @returns {object[]} rows not yet published, oldest first */
export function unsentRows(db, limit = 100) {
  return db.prepare('SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?').all(limit);
}

export function createOutboxRelay({ db, producer, logger, intervalMs = 500, batchSize = 100 }) {
  return new OutboxRelay({ db, producer, logger, intervalMs, batchSize });
}

export class OutboxRelay {
  #db; #producer; #log; #intervalMs; #batchSize;
  #loop = null;
  #stopping = false;
  #wakeUp = () => {};
  #failures = 0;

  constructor({ db, producer, logger, intervalMs, batchSize }) {
    this.#db = db;
    this.#producer = producer;
    this.#log = logger.child({ component: 'outbox-relay' });
    this.#intervalMs = intervalMs;
    this.#batchSize = batchSize;
    db.exec(OUTBOX_TABLE);
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

  async #run() {
    while (!this.#stopping) {
      const rows = unsentRows(this.#db, this.#batchSize);
      if (rows.length === 0) {
        await this.#idle(this.#intervalMs);
        continue;
      }
      try {
        await this.#publish(rows);
        if (this.#failures > 0) this.#log.info('publishing again');
        this.#failures = 0;
      } catch (error) {
        if (this.#failures === 0) this.#log.warn({ err: error }, 'cannot publish, will retry');
        await this.#idle(backoffDelay(this.#failures++) * 1000);
      }
    }
  }

  // In id order; consecutive rows of one topic go in one request. Each
  // group is marked sent as soon as Kafka acknowledged it.
  async #publish(rows) {
    const markSent = this.#db.prepare('UPDATE outbox SET sent_at = ? WHERE id = ?');
    for (const group of consecutiveByTopic(rows)) {
      await this.#producer.send({
        topic: group[0].topic,
        acks: -1,
        messages: group.map((row) => ({
          key: row.key, value: row.value, headers: JSON.parse(row.headers),
        })),
      });
      const sentAt = new Date().toISOString();
      this.#db.transaction(() => group.forEach((row) => markSent.run(sentAt, row.id)))();
      this.#log.debug({ topic: group[0].topic, count: group.length }, 'published');
    }
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
