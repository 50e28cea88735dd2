/**
 * The event contracts: load the JSON Schemas, validate events, make new ones.
 *
 * The schemas live once, in `contracts/events/` (draft 2020-12), and the
 * Python services validate against the same files. Every schema file goes
 * into one Ajv instance, so the relative `$ref`s between them
 * (`cloudevent.schema.json`, `defs.schema.json`) resolve by their `$id`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';

const SCHEMA_SUFFIX = '.schema.json';
// Shared building blocks, not event types of their own.
const NOT_A_TYPE = new Set(['cloudevent', 'defs']);

/** An event that cannot be parsed or does not match its type's schema. */
export class InvalidEvent extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'InvalidEvent';
    this.reason = reason;
  }
}

/**
 * The `contracts/` folder of the repository this module lives in, found by
 * walking up from here (it works from the work tree and from a container
 * that copies the repository's layout).
 */
export function findContractsDir(start = dirname(fileURLToPath(import.meta.url))) {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'contracts');
    if (existsSync(join(candidate, 'events'))) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(`no contracts/events folder above ${start}; set CONTRACTS_DIR`);
    }
  }
}

/**
 * @param {string} [dir] the `contracts/` folder; found from the repository if not given
 * @returns {Contracts}
 */
export function loadContracts(dir) {
  return new Contracts(resolve(dir ?? findContractsDir()));
}

export class Contracts {
  #validators = new Map();

  constructor(dir) {
    this.dir = dir;
    // strictTypes off: the type schemas narrow the envelope's properties
    // ("properties" next to "$ref") without repeating "type": "object".
    const ajv = new Ajv2020({ strict: true, strictTypes: false });
    const eventsDir = join(dir, 'events');
    for (const file of readdirSync(eventsDir).filter((name) => name.endsWith(SCHEMA_SUFFIX))) {
      const schema = JSON.parse(readFileSync(join(eventsDir, file), 'utf8'));
      ajv.addSchema(schema);
      const type = file.slice(0, -SCHEMA_SUFFIX.length);
      if (!NOT_A_TYPE.has(type)) this.#validators.set(type, schema.$id);
    }
    for (const [type, id] of this.#validators) this.#validators.set(type, ajv.getSchema(id));
    const topics = readTopics(dir);
    this.topics = topics.topics;
    this.deadLetterSuffix = topics.dead_letter_suffix;
    this.retrySuffix = topics.retry_suffix;
    this.retryLevels = topics.retry_levels;
    const expiry = JSON.parse(readFileSync(join(dir, 'expiry.json'), 'utf8'));
    this.timeToLive = expiry.time_to_live_seconds;
  }

  /** @returns {string[]} every event type that has a schema */
  get types() {
    return [...this.#validators.keys()].sort();
  }

  /** @returns {string} the topic an event type travels on */
  topicOf(type) {
    const entry = Object.entries(this.topics).find(([, types]) => types.includes(type));
    if (!entry) throw new Error(`no topic carries events of type ${type}`);
    return entry[0];
  }

  /** @returns {string} the topic where `topic`'s records wait for attempt `level + 1` */
  retryTopic(topic, level) {
    return `${topic}${this.retrySuffix}${level}`;
  }

  /** @returns {string[]} the retry topics of `topics`, levels 1..`levels` */
  retryTopics(topics, levels = this.retryLevels) {
    return topics.flatMap((topic) => (
      Array.from({ length: levels }, (_, index) => this.retryTopic(topic, index + 1))
    ));
  }

  /**
   * @returns {{topic: string, level: number}} the topic a record of `topic` was
   *   first sent to, and `topic`'s retry level (0 for that topic itself)
   */
  originOf(topic) {
    const at = topic.lastIndexOf(this.retrySuffix);
    const level = topic.slice(at + this.retrySuffix.length);
    if (at > 0 && /^[1-9]\d*$/.test(level) && Number(level) <= this.retryLevels) {
      return { topic: topic.slice(0, at), level: Number(level) };
    }
    return { topic, level: 0 };
  }

  /** @returns {number|undefined} seconds an event of `type` stays worth acting on, or forever */
  ttlOf(type) {
    return this.timeToLive[type];
  }

  /** @returns {boolean} whether a (valid) event is older than its type's time to live */
  isExpired(event, now = Date.now()) {
    const ttl = this.ttlOf(event.type);
    return ttl !== undefined && now - Date.parse(event.time) > ttl * 1000;
  }

  /**
   * Checks an event against the schema of its `type`.
   * @throws {InvalidEvent} naming the first mismatch
   */
  validate(event) {
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      throw new InvalidEvent('an event must be a JSON object');
    }
    const validator = this.#validators.get(event.type);
    if (!validator) throw new InvalidEvent(`unknown event type ${JSON.stringify(event.type)}`);
    if (!validator(event)) {
      const [error] = validator.errors;
      throw new InvalidEvent(`${event.type}: ${error.instancePath || '/'} ${error.message}`);
    }
    return event;
  }

  /**
   * Parses the bytes of a Kafka record and validates the event in them.
   * @param {Buffer|string|null} value
   * @throws {InvalidEvent} when the bytes are not JSON or the event not valid
   */
  parse(value) {
    if (value === null || value === undefined) throw new InvalidEvent('empty message');
    let event;
    try {
      event = JSON.parse(value.toString('utf8'));
    } catch (error) {
      throw new InvalidEvent(`not JSON: ${error.message}`);
    }
    try {
      return this.validate(event);
    } catch (error) {
      if (error instanceof InvalidEvent) throw error;
      // Whatever else checking it raises (a stack overflow on a value nested
      // too deep): the record cannot be read, and reading it again fails the same way.
      throw new InvalidEvent(`unreadable: ${error.name}`);
    }
  }
}

/** contracts/topics.json: the topics, their types, and the retry and dead-letter names. */
export function readTopics(dir) {
  return JSON.parse(readFileSync(join(dir, 'topics.json'), 'utf8'));
}

/**
 * A new CloudEvent in polyshop's envelope.
 *
 * @param {string} type e.g. 'inventory.reserved'
 * @param {string} source e.g. '/inventory'
 * @param {string} subject the order id (also the Kafka key)
 * @param {object} data the type's payload
 */
export function newEvent(type, source, subject, data) {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source,
    type,
    subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}
