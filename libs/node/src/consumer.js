/**
 * The idempotent consumer every Node.js service runs (docs/saga.md, "Consumers").
 *
 * For each record, in partition order:
 *   1. parse and validate; what fails goes to TOPIC.dlq (same key and value,
 *      headers dlq-reason, dlq-topic, dlq-partition, dlq-offset, dlq-group)
 *      and the loop moves on: one bad message never blocks a partition;
 *   2. a valid event of a type the service does not handle is skipped;
 *   3. the handler runs in ONE SQLite transaction together with the insert
 *      of the event id into processed_events: a redelivered event finds its
 *      id there and changes nothing;
 *   4. only then is the offset committed (at-least-once: a crash before the
 *      commit redelivers, step 3 makes that harmless). Records come in
 *      batches per partition; the offset after the last one done is
 *      committed once per batch, not once per record: a commit is a broker
 *      round trip, and at a few hundred events a second one per record was
 *      most of the consumer's time. The loop emits 'record' as each record
 *      is done (its transaction committed); the offset commit follows at
 *      the end of the batch.
 * A transient failure (database busy, a service call down, Kafka away;
 * see errors.js) is retried with backoff, without committing, until it
 * passes or the loop stops. Any other error from a handler is a bug or an
 * event it cannot take: its transaction is rolled back and the event is
 * dead-lettered ("handler failed: ..."), so the partition moves on.
 *
 * A handler is `(event, tx, context) => void`, run inside the transaction;
 * or `{ prepare, apply }` when it needs the network first: `prepare(event,
 * context)` is awaited outside the transaction (a synchronous SQLite
 * transaction cannot wait for a socket), and its result reaches `apply` as
 * `context.prepared`.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from './backoff.js';
import { markProcessed, PROCESSED_EVENTS_TABLE, wasProcessed } from './db.js';
import { isTransient } from './errors.js';
import { InvalidEvent } from './events.js';

const RETRY_BACKOFF = { initial: 0.2, maximum: 5 };
const STOP_CONNECT_WAIT_MS = 1000;
// A short fetch wait keeps stop() quick: leaving waits for the fetch in flight.
const CONSUMER_SETTINGS = { sessionTimeout: 6000, heartbeatInterval: 2000, maxWaitTimeInMs: 1000 };

export function createConsumerLoop(options) {
  return new ConsumerLoop(options);
}

export class ConsumerLoop extends EventEmitter {
  #kafka; #groupId; #topics; #handlers; #db; #contracts; #producer; #log;
  #consumer = null;
  #connecting = null;
  #running = false;
  #stopping = false;
  #aborter = new AbortController();

  /**
   * @param {object} options
   * @param {import('kafkajs').Kafka} options.kafka from createKafka()
   * @param {string} options.groupId the service's name
   * @param {string[]} options.topics
   * @param {Record<string, Function|{prepare, apply}>} options.handlers by event type
   * @param {import('better-sqlite3').Database} options.db
   * @param {import('./events.js').Contracts} options.contracts
   * @param {import('kafkajs').Producer} options.producer for dead letters; connected by start()
   */
  constructor({ kafka, groupId, topics, handlers, db, contracts, producer, logger }) {
    super();
    this.#kafka = kafka;
    this.#groupId = groupId;
    this.#topics = topics;
    this.#handlers = handlers;
    this.#db = db;
    this.#contracts = contracts;
    this.#producer = producer;
    this.#log = logger.child({ component: 'consumer', group: groupId });
    db.exec(PROCESSED_EVENTS_TABLE);
  }

  /** True while connected and consuming (for /readyz). */
  get isRunning() {
    return this.#running;
  }

  /** Returns at once; connects in the background, retrying while Kafka is unreachable. */
  start() {
    this.#connecting ??= this.#connectUntilRunning();
  }

  /** Stops consuming: a record in retry is left uncommitted, the group is left cleanly. */
  async stop() {
    this.#stopping = true;
    this.#running = false;
    this.#aborter.abort();
    // A connect attempt to an unreachable broker can take seconds to fail;
    // do not wait for it: it sees #stopping and cleans up after itself.
    await Promise.race([this.#connecting, sleep(STOP_CONNECT_WAIT_MS)]);
    await this.#consumer?.disconnect();
    this.#log.info('consumer stopped');
  }

  async #connectUntilRunning() {
    for (let attempt = 0; !this.#stopping; attempt += 1) {
      try {
        await this.#connectOnce();
        this.#running = true;
        this.#log.info({ topics: this.#topics }, 'consuming');
        return;
      } catch (error) {
        await this.#consumer?.disconnect().catch(() => undefined);
        if (this.#stopping) return;
        if (attempt === 0) this.#log.warn({ err: error }, 'Kafka unreachable, will keep trying');
        await this.#pause(attempt);
      }
    }
  }

  async #connectOnce() {
    await this.#producer.connect();
    this.#throwIfStopping();
    const consumer = this.#kafka.consumer({ groupId: this.#groupId, ...CONSUMER_SETTINGS });
    this.#consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => this.#onCrash(payload));
    await consumer.connect();
    this.#throwIfStopping();
    // fromBeginning applies only to a group without committed offsets.
    await consumer.subscribe({ topics: this.#topics, fromBeginning: true });
    this.#throwIfStopping();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.#onBatch(payload),
    });
  }

  #throwIfStopping() {
    if (this.#stopping) throw new Error('stopped while connecting');
  }

  // kafkajs restarts itself after most failures; when it gives up, so do we
  // not: reconnect from scratch.
  #onCrash({ error, restart }) {
    this.#log.error({ err: error, restart }, 'consumer crashed');
    if (restart || this.#stopping) return;
    this.#running = false;
    const crashed = this.#consumer;
    this.#connecting = crashed.disconnect()
      .catch(() => undefined)
      .then(() => this.#connectUntilRunning());
  }

  // In offset order; stops early on a rebalance (isStale) or a stop, and
  // commits what is done so far: the rest goes to whoever owns the
  // partition next.
  async #onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }) {
    const { topic, partition } = batch;
    let next = null;
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.#stopping) break;
      const context = { topic, partition, offset: message.offset, headers: message.headers ?? {} };
      const outcome = await this.#retrying(() => this.#process(message, context), heartbeat);
      if (outcome === undefined) break; // stopping: leave the offset uncommitted
      resolveOffset(message.offset);
      next = (BigInt(message.offset) + 1n).toString();
      this.emit('record', { ...context, ...outcome });
      await heartbeat();
    }
    if (next !== null) await this.#consumer.commitOffsets([{ topic, partition, offset: next }]);
  }

  /** @returns {Promise<{outcome: string, event?: object}>} */
  async #process(message, context) {
    let event;
    try {
      event = this.#contracts.parse(message.value);
    } catch (error) {
      if (!(error instanceof InvalidEvent)) throw error;
      await this.#deadLetter(message, context, error.reason);
      return { outcome: 'dead-lettered', reason: error.reason };
    }
    const handler = this.#handlers[event.type];
    if (!handler) return { outcome: 'skipped', event };
    // A cheap early check, so a redelivery does not repeat a service call;
    // the insert inside the transaction below is what decides.
    if (wasProcessed(this.#db, event.id)) return { outcome: 'duplicate', event };
    try {
      const handled = await this.#handle(handler, event, context);
      return { outcome: handled ? 'handled' : 'duplicate', event };
    } catch (error) {
      if (isTransient(error)) throw error;
      this.#log.error({ err: error, event_id: event.id, type: event.type }, 'handler failed');
      const reason = `handler failed: ${error.message}`;
      await this.#deadLetter(message, context, reason);
      return { outcome: 'dead-lettered', reason, event };
    }
  }

  /** @returns {Promise<boolean>} false for a redelivery */
  async #handle(handler, event, context) {
    const { prepare, apply } = typeof handler === 'function' ? { apply: handler } : handler;
    const prepared = prepare ? await prepare(event, context) : undefined;
    const handled = this.#db.transaction(() => {
      if (!markProcessed(this.#db, event)) return false;
      apply(event, this.#db, { ...context, prepared });
      return true;
    }).immediate();
    this.#log.info({ event_id: event.id, type: event.type, handled }, 'event handled');
    return handled;
  }

  async #deadLetter(message, { topic, partition, offset, headers }, reason) {
    this.#log.warn({ topic, partition, offset, reason }, 'dead-lettering a message');
    await this.#producer.send({
      topic: `${topic}${this.#contracts.deadLetterSuffix}`,
      acks: -1,
      messages: [{
        key: message.key,
        value: message.value,
        headers: {
          ...headers,
          'dlq-reason': reason,
          'dlq-topic': topic,
          'dlq-partition': String(partition),
          'dlq-offset': String(offset),
          'dlq-group': this.#groupId,
        },
      }],
    });
  }

  // Runs `work` until it succeeds; undefined if the loop stops first. The
  // heartbeat keeps the group membership alive while we wait, and throws on
  // a rebalance: the record is then given up uncommitted, for the partition's
  // next owner.
  async #retrying(work, heartbeat) {
    for (let attempt = 0; !this.#stopping; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (this.#stopping) return undefined;
        this.#log.warn({ err: error, attempt }, 'transient failure, will retry');
        await this.#pause(attempt);
        await heartbeat();
      }
    }
    return undefined;
  }

  async #pause(attempt) {
    const delayMs = backoffDelay(attempt, RETRY_BACKOFF) * 1000;
    await sleep(delayMs, undefined, { signal: this.#aborter.signal }).catch(() => undefined);
  }
}
