/**
 * Dead letters (docs/saga.md, "Dead letters"): read the dead-letter topics,
 * and redrive a dead letter, once, to its original topic or to another one.
 * The Python twin is polyshop_common.kafka_io.dead_letters; both name,
 * redrive and record the same way.
 *
 * A dead letter is named by where it lies: `DLQTOPIC/PARTITION/OFFSET`. A
 * redrive republishes its key, value and headers as they were, less the
 * `dlq-*` headers (they describe the dead letter, not the event), plus
 * `redriven-from` naming it, and with the trace context of its own `send`
 * span (kafka-spans.js); then it records the redrive in the compacted
 * redrive topic, keyed by that name. That record is what refuses a second
 * redrive. A redrive that published but failed to record can be repeated:
 * the consumers are idempotent, so a second copy of an event changes nothing.
 *
 * Every read takes the end offsets first and reads each partition up to
 * them, committing nothing. kafkajs has no manual assignment, so a read
 * joins a group of its own (a new id, one member), seeks, and deletes the
 * group when it is done: no group a service uses is touched.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { readTopics } from './events.js';
import { createKafka, createProducer } from './kafka.js';
import { sendRecords } from './kafka-spans.js';

export const DLQ_PREFIX = 'dlq-';
export const REDRIVEN_FROM = 'redriven-from';
// Kafka's legal topic characters, then the partition and the offset.
const LETTER_ID = /^([A-Za-z0-9._-]+)\/(\d+)\/(\d+)$/;

/** A failure whose message tells a person what happened. */
export class DeadLetterError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** Not of the form DLQTOPIC/PARTITION/OFFSET. */
export class BadLetterId extends DeadLetterError {}

/** No dead letter lies there (or the topic named is not a dead-letter topic). */
export class UnknownDeadLetter extends DeadLetterError {}

export class AlreadyRedriven extends DeadLetterError {
  constructor(redrive) {
    super(`${redrive.letter} was redriven already, to ${redrive.target} at ${redrive.time}`);
    this.redrive = redrive;
  }
}

/** The broker cannot be reached, or failed the request. */
export class KafkaUnavailable extends DeadLetterError {}

export class LetterId {
  constructor(topic, partition, offset) {
    Object.assign(this, { topic, partition, offset });
    Object.freeze(this);
  }

  static parse(text) {
    const match = LETTER_ID.exec(String(text).trim());
    if (!match) {
      throw new BadLetterId(`${JSON.stringify(text)} is not a dead letter's id: DLQTOPIC/PARTITION/OFFSET`);
    }
    return new LetterId(match[1], Number(match[2]), Number(match[3]));
  }

  toString() {
    return `${this.topic}/${this.partition}/${this.offset}`;
  }
}

/** A redrive's record: which dead letter went where, and when. */
export class Redrive {
  constructor({ letter, topic, partition, offset, time }) {
    Object.assign(this, { letter, topic, partition, offset, time });
    Object.freeze(this);
  }

  get target() {
    return `${this.topic}/${this.partition}/${this.offset}`;
  }

  /** The record's value, byte for byte as the Python twin's json.dumps writes it. */
  encode() {
    const { topic, partition, offset, time } = this;
    const fields = Object.entries({ topic, partition, offset, time })
      .map(([name, value]) => `${JSON.stringify(name)}: ${JSON.stringify(value)}`);
    return Buffer.from(`{${fields.join(', ')}}`);
  }

  static decode(key, value) {
    const { topic, partition, offset, time } = JSON.parse(value.toString());
    return new Redrive({ letter: key.toString(), topic, partition, offset, time });
  }
}

export class DeadLetter {
  /** @param {{id: LetterId, timestampMs: number, key: Buffer|null, value: Buffer|null,
   *   headers: [string, Buffer|null][], redrive: Redrive|null}} fields */
  constructor(fields) {
    Object.assign(this, fields);
  }

  /** The last value of a header, as text. */
  header(name) {
    const values = this.headers.filter(([key, value]) => key === name && value !== null);
    return values.length > 0 ? values.at(-1)[1].toString() : null;
  }

  get reason() {
    return this.header('dlq-reason');
  }

  get group() {
    return this.header('dlq-group');
  }

  /** The topic it was dead-lettered from, where a redrive sends it. */
  get origin() {
    return this.header('dlq-topic');
  }

  /** Its headers less the `dlq-*` ones, with `redriven-from` naming it
   * (replacing the one of an earlier redrive). */
  redriveHeaders() {
    const kept = this.headers.filter(([key]) => !key.startsWith(DLQ_PREFIX) && key !== REDRIVEN_FROM);
    return [...kept, [REDRIVEN_FROM, Buffer.from(String(this.id))]];
  }
}

/** The dead letters of one broker: `letters`, `get`, `redriven`, `redrive`. */
export class DeadLetters {
  #kafka;
  #clients = {}; // 'admin' and 'producer': each a promise of a connected client

  constructor({
    brokers, logger, suffix = '.dlq', redriveTopic = 'dead-letters.redriven', timeoutMs = 10000,
  }) {
    Object.assign(this, { brokers, suffix, redriveTopic, timeoutMs });
    // Each read joins and leaves a group: at info, kafkajs would log it every time.
    const log = logger.level === 'info' ? logger.child({}, { level: 'warn' }) : logger;
    this.#kafka = createKafka({ brokers, clientId: 'polyshop-dead-letters', logger: log });
  }

  /** Named as contracts/topics.json names the dead-letter and redrive topics. */
  static fromContracts({ brokers, logger, contracts, timeoutMs }) {
    const { dead_letter_suffix: suffix, redrive_topic: redriveTopic } = readTopics(contracts.dir);
    return new DeadLetters({ brokers, logger, suffix, redriveTopic, timeoutMs });
  }

  async close() {
    const clients = Object.values(this.#clients);
    this.#clients = {};
    await Promise.all(clients.map(async (pending) => (await pending.catch(() => null))?.disconnect()));
  }

  /** Every dead-letter topic of the broker. */
  async topics() {
    return this.#kafkaCall(async (admin) => (await admin.listTopics())
      .filter((topic) => topic.endsWith(this.suffix)).sort());
  }

  /** The dead letters of one topic (`orders` or `orders.dlq`) or of all,
   * oldest first; with `limit`, only the newest `limit` of them. */
  async letters({ topic, limit } = {}) {
    const names = topic ? [this.deadLetterTopic(topic)] : await this.topics();
    const ranges = await this.#kafkaCall(async (admin) => {
      await this.#mustExist(admin, names);
      // The newest `limit` overall are among the last `limit` of each partition.
      return (await this.#offsets(admin, names)).map(({ high, low, ...partition }) => (
        { ...partition, end: high, start: limit ? Math.max(low, high - limit) : low }));
    });
    const records = await this.#read(ranges);
    const redrives = await this.redrives();
    const found = records.map((record) => letterOf(record, redrives)).sort(byTime);
    return limit ? found.slice(-limit) : found;
  }

  /** One dead letter, with its redrive if it had one; UnknownDeadLetter if none lies there. */
  async get(letter) {
    if (!letter.topic.endsWith(this.suffix)) {
      throw new UnknownDeadLetter(`${letter.topic} is not a dead-letter topic`);
    }
    const range = await this.#kafkaCall(async (admin) => {
      if (!(await admin.listTopics()).includes(letter.topic)) {
        throw new UnknownDeadLetter(`there is no topic ${letter.topic} on ${this.brokers}`);
      }
      const found = (await this.#offsets(admin, [letter.topic]))
        .find(({ partition }) => partition === letter.partition);
      if (!found) throw new UnknownDeadLetter(`${letter.topic} has no partition ${letter.partition}`);
      return found;
    });
    const { low, high } = range;
    const inRange = low <= letter.offset && letter.offset < high;
    const records = inRange
      ? await this.#read([{ ...range, start: letter.offset, end: letter.offset + 1 }]) : [];
    if (records.length === 0) {
      const held = low < high ? `it holds offsets ${low}..${high - 1}` : 'it is empty';
      throw new UnknownDeadLetter(`no dead letter at ${letter}: ${held}`);
    }
    return letterOf(records[0], new Map([[String(letter), await this.redriven(letter)]]));
  }

  /** Every redrive recorded, by dead letter; none if the redrive topic is missing. */
  async redrives() {
    const ranges = await this.#kafkaCall(async (admin) => (
      (await admin.listTopics()).includes(this.redriveTopic)
        ? (await this.#offsets(admin, [this.redriveTopic]))
          .map(({ low, high, ...partition }) => ({ ...partition, start: low, end: high }))
        : []));
    const found = new Map();
    for (const { key, value } of await this.#read(ranges)) {
      // A tombstone: the redrive was forgotten.
      if (value === null) found.delete(key.toString());
      else found.set(key.toString(), Redrive.decode(key, value));
    }
    return found;
  }

  async redriven(letter) {
    return (await this.redrives()).get(String(letter)) ?? null;
  }

  /** Republishes a dead letter to its original topic (or `to`), once
   * unless `again`; returns the redrive's record. */
  async redrive(letter, { to, again = false } = {}) {
    const dead = await this.get(letter);
    if (dead.redrive && !again) throw new AlreadyRedriven(dead.redrive);
    const target = to || dead.origin;
    if (!target) {
      throw new DeadLetterError(`${letter} has no dlq-topic header: name a topic to send it to`);
    }
    return this.#kafkaCall(async (admin) => {
      await this.#mustExist(admin, [target, this.redriveTopic]);
      const sent = await this.#send(target, dead.key, dead.value, dead.redriveHeaders());
      const done = new Redrive({ letter: String(letter), ...sent, time: new Date().toISOString() });
      await this.#send(this.redriveTopic, Buffer.from(String(letter)), done.encode(), []);
      return done;
    });
  }

  deadLetterTopic(topic) {
    return topic.endsWith(this.suffix) ? topic : `${topic}${this.suffix}`;
  }

  async #mustExist(admin, topics) {
    const known = new Set(await admin.listTopics());
    const missing = topics.find((topic) => !known.has(topic));
    if (missing) throw new DeadLetterError(`there is no topic ${missing} on ${this.brokers}`);
  }

  async #offsets(admin, topics) {
    const found = [];
    for (const topic of topics) {
      for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
        found.push({ topic, partition, low: Number(low), high: Number(high) });
      }
    }
    return found;
  }

  // A `send` span of the active trace (the operator's request): the record
  // carries its context, not the one the dead letter carried.
  async #send(topic, key, value, headers) {
    const producer = await this.#client('producer', () => createProducer(this.#kafka, {
      allowAutoTopicCreation: false,
    }));
    const [sent] = await sendRecords(producer, {
      topic, acks: -1, timeout: this.timeoutMs, records: [{ key, value, headers: headerObject(headers) }],
    });
    return { topic, partition: sent.partition, offset: Number(sent.baseOffset) };
  }

  /** The records of each `{topic, partition, start, end}`, from start up to (not including) end. */
  async #read(ranges) {
    const wanted = new Map(ranges.filter(({ start, end }) => start < end)
      .map((range) => [`${range.topic}/${range.partition}`, range]));
    if (wanted.size === 0) return [];
    const groupId = `polyshop-dead-letters-${randomUUID()}`;
    // Joining a new group meets "coordinator loading" on a broker that just
    // started (its offsets topic is still being read), and kafkajs does not
    // retry a join that meets it: the consumer starts again instead, until
    // the read's own deadline (timeoutMs without a batch) gives up.
    const consumer = this.#kafka.consumer({
      groupId, maxWaitTimeInMs: 250, retry: { retries: 5, restartOnFailure: async () => true },
    });
    const records = new Map();
    try {
      await this.#kafkaCall(async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [...new Set([...wanted.values()].map((r) => r.topic))] });
      });
      await readUntilEnds(consumer, wanted, records, this.timeoutMs);
    } finally {
      await consumer.disconnect();
      await this.#kafkaCall((admin) => admin.deleteGroups([groupId])).catch(() => undefined);
    }
    return [...records.values()];
  }

  async #kafkaCall(work) {
    try {
      return await work(await this.#client('admin', () => this.#kafka.admin()));
    } catch (error) {
      if (error instanceof DeadLetterError || !String(error?.name).startsWith('KafkaJS')) throw error;
      // The next call asks the broker afresh instead of waiting on a client that lost it.
      await this.close().catch(() => undefined);
      throw new KafkaUnavailable(`Kafka at ${this.brokers} failed: ${error.message}`, { cause: error });
    }
  }

  #client(kind, make) {
    this.#clients[kind] ??= this.#connect(make).catch((error) => {
      delete this.#clients[kind];
      throw error;
    });
    return this.#clients[kind];
  }

  async #connect(make) {
    // kafkajs retries an absent broker for seconds before it gives up: ask first.
    if (!(await reachable(this.brokers))) {
      throw new KafkaUnavailable(`no Kafka broker answers at ${this.brokers}`);
    }
    const client = make();
    await client.connect();
    return client;
  }
}

/**
 * Reads `wanted` (by "topic/partition") into `records` (by "topic/partition/offset")
 * until each partition is read to its end; KafkaUnavailable if no batch comes
 * for `timeoutMs`, or the consumer crashes.
 */
function readUntilEnds(consumer, wanted, records, timeoutMs) {
  const left = new Set(wanted.keys());
  return new Promise((resolve, reject) => {
    let timer;
    const stalled = () => {
      clearTimeout(timer);
      timer = setTimeout(() => reject(new KafkaUnavailable(`reading ${[...left]} stalled`)), timeoutMs);
    };
    const finish = (error) => {
      clearTimeout(timer);
      return error ? reject(error) : resolve();
    };
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return; // a retriable error: kafkajs starts the consumer again
      finish(new KafkaUnavailable(
        `reading ${[...left]} failed: ${payload.error.message}`, { cause: payload.error },
      ));
    });
    // Seeking as the group is joined comes before the first fetch.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const { topic, partition, start } of wanted.values()) {
        consumer.seek({ topic, partition, offset: String(start) });
      }
    });
    consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const name = `${batch.topic}/${batch.partition}`;
        const range = wanted.get(name);
        if (!range) return;
        for (const message of batch.messages) {
          const offset = Number(message.offset);
          if (offset >= range.start && offset < range.end) {
            records.set(`${name}/${offset}`, recordOf(batch.topic, batch.partition, message));
          }
        }
        if (Number(batch.lastOffset()) + 1 >= range.end) left.delete(name);
        stalled();
        if (left.size === 0) finish();
      },
    }).then(stalled, (error) => finish(new KafkaUnavailable(error.message, { cause: error })));
  });
}

function recordOf(topic, partition, message) {
  const headers = Object.entries(message.headers ?? {})
    .flatMap(([name, value]) => [value].flat().map((one) => [name, one ?? null]));
  return {
    topic, partition, offset: Number(message.offset), timestamp: Number(message.timestamp),
    key: message.key ?? null, value: message.value ?? null, headers,
  };
}

function letterOf(record, redrives) {
  const id = new LetterId(record.topic, record.partition, record.offset);
  const { key, value, headers, timestamp: timestampMs } = record;
  return new DeadLetter({ id, timestampMs, key, value, headers, redrive: redrives.get(String(id)) ?? null });
}

// kafkajs takes headers as an object: a name that repeats becomes a list of values.
function headerObject(headers) {
  const object = {};
  for (const [name, value] of headers) {
    object[name] = name in object ? [object[name], value].flat() : value;
  }
  return object;
}

/** By time, then by where they lie, as the Python twin sorts them. */
function byTime(a, b) {
  const topics = a.id.topic < b.id.topic ? -1 : Number(a.id.topic > b.id.topic);
  return a.timestampMs - b.timestampMs || topics
    || a.id.partition - b.id.partition || a.id.offset - b.id.offset;
}

/** Does any broker accept a TCP connection? */
function reachable(brokers, timeoutMs = 1000) {
  const tries = brokers.map((broker) => new Promise((resolve) => {
    const at = broker.lastIndexOf(':');
    const socket = net.connect({ host: broker.slice(0, at), port: Number(broker.slice(at + 1)) });
    socket.setTimeout(timeoutMs);
    const answer = (ok) => () => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', answer(true));
    socket.once('timeout', answer(false));
    socket.once('error', answer(false));
  }));
  return Promise.all(tries).then((answers) => answers.includes(true));
}
