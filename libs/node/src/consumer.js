/**
 * The idempotent consumer every Node.js service runs (docs/saga.md,
 * "Consumers" and "Retries, expiry and dead letters").
 *
 * For each record, in partition order:
 *   1. parse and validate; what fails goes to TOPIC.dlq (same key and value,
 *      headers dlq-reason, dlq-topic, dlq-partition, dlq-offset, dlq-group)
 *      and the loop moves on: reading it again would fail the same way, and
 *      one bad message must not block a partition;
 *   2. a valid event of a type the service does not handle is skipped;
 *   3. a handled event older than its type's time to live is dead-lettered
 *      as "expired": news that old (stock for an order that timed out) would
 *      do harm if acted on, and the dead letter keeps it for a person;
 *   4. the handler runs in ONE SQLite transaction together with the insert
 *      of the event id into processed_events: a redelivered or retried event
 *      finds its id there and changes nothing;
 *   5. only then is the offset committed (at-least-once: a crash before the
 *      commit redelivers, step 4 makes that harmless). Records come in
 *      batches per partition; the offset after the last one done is
 *      handed over at the end of its batch, not per record: a commit is a
 *      broker round trip, and at a few hundred events a second one per
 *      record was most of the consumer's time. Offsets are committed in the
 *      background, at most one commit every COMMIT_INTERVAL_MS
 *      (#commitSoon). The loop emits 'record' as each record is done.
 *
 * A handler that fails, for whatever reason, does not hold its partition:
 * waiting for one event would stall every later event of the partition,
 * most of them other orders'. Its transaction is rolled back and the record
 * is copied to the next retry topic, or after the last delay to the dead
 * letters (retries.js); then the partition moves on. The same loop reads the
 * retry topics: a copy of another group is passed over (groups share retry
 * topics), and a copy not yet due pauses its partition only. Sleeping in the
 * batch instead would stall the main topics too, since kafkajs hands the
 * batches of all partitions to one loop, one after another; the seek back
 * makes the paused partition read that copy again when it resumes. Only
 * when Kafka cannot take the copy or the dead letter is the record retried
 * in place, with backoff and uncommitted: nothing can safely move on then.
 *
 * Each record's work, and the publishing of its copy or dead letter, runs
 * inside its `process` span (kafka-spans.js), a child of the span that sent
 * it: the handler's logs, calls and emitted events join the record's trace.
 * It is timed too, and each batch sets its partition's lag
 * (consumer-metrics.js).
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
import { ConsumerMetrics } from './consumer-metrics.js';
import { markProcessed, PROCESSED_EVENTS_TABLE, wasProcessed } from './db.js';
import { isTransient } from './errors.js';
import { InvalidEvent } from './events.js';
import { isOn, onFaultsChange, PAUSE_CONSUMER } from './faults.js';
import { markFailed, processing, sendRecords } from './kafka-spans.js';
import {
  afterFailure, deadLetter, DEFAULT_RETRY_DELAYS, dueAt, isForeign,
} from './retries.js';

const BACKOFF = { initial: 0.2, maximum: 5 };
const STOP_CONNECT_WAIT_MS = 1000;
// A short fetch wait keeps stop() quick: leaving waits for the fetch in flight.
const CONSUMER_SETTINGS = { sessionTimeout: 6000, heartbeatInterval: 2000, maxWaitTimeInMs: 1000 };
// Between two commits' starts, at least (as in Python, kafka_io/commits.py).
const COMMIT_INTERVAL_MS = 500;

export function createConsumerLoop(options) {
  return new ConsumerLoop(options);
}

export class ConsumerLoop extends EventEmitter {
  #kafka; #groupId; #topics; #handlers; #db; #contracts; #producer; #retryDelays; #expiry; #log;
  #metrics;
  #consumer = null;
  #connecting = null;
  #running = false;
  #stopping = false;
  #aborter = new AbortController();
  // Timers that resume partitions paused until a retry record is due.
  #resumeTimers = new Set();
  // What resumes the partitions the fault switch paused, and stops listening for it.
  #held = [];
  #stopHolding = null;
  // Offsets of durable work not yet handed to the broker, by partition, and
  // the commits under way (see #commitSoon).
  #toCommit = new Map();
  #committing = null;
  #lastCommit = -Infinity;
  #hurry = false; // commit what is pending without waiting out the interval
  #wake = null; // ends the wait for the interval

  /**
   * @param {object} options
   * @param {import('kafkajs').Kafka} options.kafka from createKafka()
   * @param {string} options.groupId the service's name
   * @param {string[]} options.topics its main topics; their retry topics are read too
   * @param {Record<string, Function|{prepare, apply}>} options.handlers by event type
   * @param {import('better-sqlite3').Database} options.db
   * @param {import('./events.js').Contracts} options.contracts
   * @param {import('kafkajs').Producer} options.producer for retries and dead letters;
   *   connected by start()
   * @param {number[]} [options.retryDelays] seconds before attempts 2, 3, ... (config's
   *   consumerRetryDelays); [] dead-letters a failure at once
   * @param {boolean} [options.expiry] false for a read model, which records what
   *   happened however old the news: only a consumer that acts on an event expires it
   */
  constructor({
    kafka, groupId, topics, handlers, db, contracts, producer, logger,
    retryDelays = DEFAULT_RETRY_DELAYS, expiry = true,
  }) {
    super();
    if (retryDelays.length > contracts.retryLevels) {
      const levels = contracts.retryLevels;
      throw new Error(`${retryDelays.length} retry delays, but only ${levels} retry topics`);
    }
    this.#kafka = kafka;
    this.#groupId = groupId;
    this.#topics = [...topics, ...contracts.retryTopics(topics, retryDelays.length)];
    this.#handlers = handlers;
    this.#db = db;
    this.#contracts = contracts;
    this.#producer = producer;
    this.#retryDelays = [...retryDelays];
    this.#expiry = expiry;
    this.#log = logger.child({ component: 'consumer', group: groupId });
    this.#metrics = new ConsumerMetrics(groupId);
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

  /**
   * Stops consuming: a record retried in place is left uncommitted, a partition
   * paused for a retry not due is not resumed, the group is left cleanly.
   */
  async stop() {
    this.#stopping = true;
    this.#running = false;
    this.#aborter.abort();
    // A connect attempt to an unreachable broker can take seconds to fail;
    // do not wait for it: it sees #stopping and cleans up after itself.
    await Promise.race([this.#connecting, sleep(STOP_CONNECT_WAIT_MS)]);
    await this.#commitNow();
    await this.#consumer?.disconnect();
    this.#cancelResumes();
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
        await this.#backoff(attempt);
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
  // not: reconnect from scratch. Either way it starts again from the
  // committed offsets, unpaused: pending resumes belong to the old run.
  #onCrash({ error, restart }) {
    this.#log.error({ err: error, restart }, 'consumer crashed');
    this.#cancelResumes();
    if (restart || this.#stopping) return;
    this.#running = false;
    const crashed = this.#consumer;
    this.#connecting = crashed.disconnect()
      .catch(() => undefined)
      .then(() => this.#connectUntilRunning());
  }

  // In offset order; stops early on a rebalance (isStale), a stop, or a
  // retry record not due yet, and commits what is done so far: the rest
  // goes to whoever owns the partition next, or to this loop once it is due.
  async #onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }) {
    const { topic, partition } = batch;
    if (isOn(PAUSE_CONSUMER)) {
      this.#hold(batch, pause);
      return;
    }
    const { level } = this.#contracts.originOf(topic);
    let next = null;
    let waiting = null;
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.#stopping) break;
      const context = { topic, partition, offset: message.offset, headers: message.headers ?? {} };
      if (level > 0 && !isForeign(context.headers, this.#groupId)) {
        const due = dueAt(context.headers, message.timestamp, this.#retryDelays[level - 1]);
        if (due > Date.now()) {
          waiting = { topic, partition, offset: message.offset, due };
          break;
        }
      }
      const outcome = await this.#consume(message, context, level, heartbeat);
      if (outcome === undefined) break; // stopping: leave the offset uncommitted
      resolveOffset(message.offset);
      next = (BigInt(message.offset) + 1n).toString();
      this.emit('record', { ...context, ...outcome });
      await heartbeat();
    }
    this.#metrics.seeBatch(batch, next);
    if (next !== null) this.#commitSoon({ topic, partition, offset: next });
    if (waiting) this.#pauseUntilDue(waiting, pause);
    // Before kafkajs leaves the group or gives the partitions up, so the
    // next owner starts after this batch.
    if (!isRunning() || isStale() || this.#stopping) await this.#commitNow();
  }

  // A batch does not wait for its commit's round trip to the broker, which
  // would hold up every partition behind it: offsets are committed in the
  // background, one request at a time and one every COMMIT_INTERVAL_MS at
  // most, the latest of each partition, so batches done meanwhile go
  // together. A commit per batch was about six commit requests per order,
  // each a write to the broker's offsets log. Still at-least-once: only
  // offsets of durable work are handed over; a crash, or a commit lost,
  // only means a redelivery of up to an interval's records, which the
  // processed-events table makes harmless.
  #commitSoon(offset) {
    this.#toCommit.set(`${offset.topic}|${offset.partition}`, offset);
    this.#committing ??= this.#commitAll();
  }

  // What is pending, committed without waiting out the interval: before the
  // loop leaves its group or gives its partitions up, so their next owner
  // starts after this loop's work.
  async #commitNow() {
    this.#hurry = true;
    this.#wake?.();
    try {
      await this.#committing;
    } finally {
      this.#hurry = false;
    }
  }

  async #commitAll() {
    while (this.#toCommit.size > 0) {
      await this.#intervalPassed();
      const offsets = [...this.#toCommit.values()];
      this.#toCommit.clear();
      this.#lastCommit = Date.now();
      try {
        await this.#consumer.commitOffsets(offsets);
      } catch (error) {
        this.#log.warn({ err: error, offsets }, 'offset commit failed');
      }
    }
    this.#committing = null; // no await since the loop's check: nothing is left behind
  }

  #intervalPassed() {
    const wait = this.#lastCommit + COMMIT_INTERVAL_MS - Date.now();
    if (wait <= 0 || this.#hurry) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.#wake = null;
    });
  }

  // kafkajs's pause stops fetching this partition only; the seek makes the
  // next fetch after the resume start at the waiting record, not after it.
  #pauseUntilDue({ topic, partition, offset, due }, pause) {
    const resume = pause();
    this.#consumer.seek({ topic, partition, offset });
    const timer = setTimeout(() => {
      this.#resumeTimers.delete(timer);
      resume();
    }, due - Date.now());
    this.#resumeTimers.add(timer);
    this.#log.debug({ topic, partition, offset, due }, 'retry not due yet, partition paused');
  }

  // The `pause-consumer` fault switch: each partition that brings a batch
  // while it is on is paused there, and read again from that batch once the
  // switch is off. The consumer stays in its group; its lag grows.
  #hold(batch, pause) {
    const { topic, partition, messages } = batch;
    const resume = pause();
    this.#consumer.seek({ topic, partition, offset: messages[0].offset });
    this.#metrics.seeBatch(batch, null); // the lag: every record of the batch waits
    this.#held.push(resume);
    this.#stopHolding ??= onFaultsChange(() => {
      if (isOn(PAUSE_CONSUMER)) return;
      for (const each of this.#held.splice(0)) each();
      this.#stopHolding();
      this.#stopHolding = null;
    });
  }

  #cancelResumes() {
    for (const timer of this.#resumeTimers) clearTimeout(timer);
    this.#resumeTimers.clear();
    this.#held.length = 0; // a new run starts unpaused
  }

  // The record's work, then the publishing of its retry copy or dead letter
  // if it needs one, all inside the record's `process` span and timed (a
  // retry of another group's is passed over: it is not this group's work).
  // Each is retried in place while it fails for a reason outside the handler
  // (the database, Kafka); the publishing on its own, so a broker away does
  // not run the handler again.
  async #consume(message, context, level, heartbeat) {
    if (level > 0 && isForeign(context.headers, this.#groupId)) {
      return { outcome: 'skipped', reason: 'a retry of another group' };
    }
    const { topic, partition } = context;
    return processing({ topic, partition, message, group: this.#groupId }, async () => {
      const timing = this.#metrics.timing(topic);
      const work = () => this.#process(message, context, level);
      const result = await this.#retrying(work, heartbeat, timing);
      if (!result?.route) return timing.done(result);
      const { route, event } = result;
      return timing.done(await this.#retrying(async () => {
        const step = route(Date.now());
        await this.#publish(message, context, step);
        return { outcome: step.outcome, reason: step.reason, event };
      }, heartbeat, timing));
    });
  }

  /** @returns {Promise<{outcome: string, reason?: string, event?: object, route?: Function}>} */
  async #process(message, context, level) {
    let event;
    try {
      event = this.#contracts.parse(message.value);
    } catch (error) {
      if (!(error instanceof InvalidEvent)) throw error;
      markFailed(error.reason);
      return { route: () => this.#deadLetter(context, error.reason) };
    }
    const handler = this.#handlers[event.type];
    if (!handler) return { outcome: 'skipped', event };
    if (this.#expiry && this.#contracts.isExpired(event)) {
      markFailed('expired');
      return { route: () => this.#deadLetter(context, 'expired'), event };
    }
    // A cheap early check, so a redelivery does not repeat a service call;
    // the insert inside the transaction below is what decides.
    if (wasProcessed(this.#db, event.id)) return { outcome: 'duplicate', event };
    try {
      const handled = await this.#handle(handler, event, context);
      return { outcome: handled ? 'handled' : 'duplicate', event };
    } catch (error) {
      // A transient failure may pass by the next attempt; anything else is
      // a bug or an event the handler cannot take, worth a stack in the log.
      const fields = { err: error, event_id: event.id, type: event.type, attempt: level + 1 };
      this.#log[isTransient(error) ? 'warn' : 'error'](fields, 'handler failed');
      const reason = failureReason(error);
      markFailed(reason, error);
      return { route: (now) => this.#afterFailure(context, reason, now), event };
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

  #deadLetter(context, reason) {
    return deadLetter(context, { contracts: this.#contracts, groupId: this.#groupId, reason });
  }

  #afterFailure(context, reason, now) {
    return afterFailure(context, {
      contracts: this.#contracts, groupId: this.#groupId, delays: this.#retryDelays, reason, now,
    });
  }

  // Inside the `process` span: the copy's `send` span is its child.
  async #publish(message, { topic, partition, offset }, step) {
    await sendRecords(this.#producer, {
      topic: step.topic,
      acks: -1,
      records: [{ key: message.key, value: message.value, headers: step.headers }],
    });
    const fields = { topic, partition, offset, to: step.topic, reason: step.reason };
    const retried = step.outcome === 'retried';
    this.#log.warn(fields, retried ? 'record sent for retry' : 'record dead-lettered');
  }

  // Runs `work` until it succeeds; undefined if the loop stops first. The
  // heartbeat keeps the group membership alive while we wait, and throws on
  // a rebalance: the record is then given up uncommitted, for the partition's
  // next owner.
  async #retrying(work, heartbeat, timing) {
    for (let attempt = 0; !this.#stopping; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        timing.failed();
        if (this.#stopping) return undefined;
        this.#log.warn({ err: error, attempt }, 'transient failure, will retry in place');
        await this.#backoff(attempt);
        await heartbeat();
        timing.restart();
      }
    }
    return undefined;
  }

  async #backoff(attempt) {
    const delayMs = backoffDelay(attempt, BACKOFF) * 1000;
    await sleep(delayMs, undefined, { signal: this.#aborter.signal }).catch(() => undefined);
  }
}

/** Why a handler failed, worded as the Python library words it: "handler failed: Name: message". */
export function failureReason(error) {
  const name = error?.name ?? 'Error';
  return `handler failed: ${name}: ${error?.message ?? String(error)}`;
}
