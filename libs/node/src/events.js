/**
 * The event contracts: load the JSON Schemas, validate events, make new ones.
 *
 * The schemas live once, in `contracts/events/` (draft 2020-12), and the
 * Python services validate against the same files. Every schema file goes
 * into one Ajv instance, so the relative `$ref`s between them
 * (`cloudevent.schema.json`, `defs.schema.json`) resolve by their `$id`.
 * The reasons `parse` and `validate` give are what a dead letter carries,
 * worded alike in both libraries (contracts/conformance/reading.json).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';

const SCHEMA_SUFFIX = '.schema.json';
// Shared building blocks, not event types of their own.
const NOT_A_TYPE = new Set(['cloudevent', 'defs']);
// An event is a few levels deep; far deeper is garbage, or an attack on a parser.
export const MAX_DEPTH = 64;
// fatal: bytes that are not UTF-8 are refused, not replaced; ignoreBOM: a BOM
// stays in the text, and JSON does not allow it.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

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
    if (!validator) throw new InvalidEvent(`unknown event type ${JSON.stringify(event.type ?? null)}`);
    if (!validator(event)) {
      const [error] = validator.errors;
      throw new InvalidEvent(`${event.type}: ${error.instancePath || '/'}: ${error.message}`);
    }
    // The schema checks the form of `time`; a 30th of February has that form too.
    if (!isRealTime(event.time)) throw new InvalidEvent(`${event.type}: /time: not a real date and time`);
    return event;
  }

  /**
   * Parses the bytes of a Kafka record and validates the event in them.
   * @param {Buffer|string|null} value
   * @throws {InvalidEvent} when the bytes are not a JSON event or the event not valid
   */
  parse(value) {
    if (value === null || value === undefined || value.length === 0) {
      throw new InvalidEvent('empty message');
    }
    let text = value;
    if (typeof value !== 'string') {
      try {
        text = UTF8.decode(value);
      } catch (error) {
        throw new InvalidEvent(`not UTF-8: ${error.message}`);
      }
    }
    let event;
    try {
      event = JSON.parse(text);
    } catch (error) {
      throw new InvalidEvent(`not JSON: ${error.message}`);
    }
    if (depth(event) > MAX_DEPTH) {
      throw new InvalidEvent(`nested too deep: more than ${MAX_DEPTH} levels`);
    }
    try {
      return this.validate(event);
    } catch (error) {
      if (error instanceof InvalidEvent) throw error;
      // Whatever else checking it raises: the record cannot be read, and
      // reading it again fails the same way.
      throw new InvalidEvent(`unreadable: ${error.name}`);
    }
  }
}

/** @returns {number} how many arrays and objects deep `value` is (a scalar: 0), without recursion */
export function depth(value) {
  let deepest = 0;
  const stack = [[value, 1]];
  while (stack.length > 0) {
    const [item, level] = stack.pop();
    if (item !== null && typeof item === 'object') {
      deepest = Math.max(deepest, level);
      for (const child of Object.values(item)) stack.push([child, level + 1]);
    }
  }
  return deepest;
}

/** Is `text` (of the schema's timestamp form) a time that exists, as Python's datetime reads it? */
function isRealTime(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/
    .exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second, offsetHours = 0, offsetMinutes = 0] = match
    .slice(1).map((part) => Number(part ?? 0));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= days
    && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
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

/** contracts/auth.json: how tokens are issued and checked (both libraries and the gateway). */
export function readAuthContract(dir = findContractsDir()) {
  return Object.freeze(JSON.parse(readFileSync(join(dir, 'auth.json'), 'utf8')));
}
