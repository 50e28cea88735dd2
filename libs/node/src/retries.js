/**
 * Non-blocking retries (docs/saga.md, "Retries"): where a record goes when
 * its handling failed, the headers it carries there, and when its copy may
 * be tried again.
 *
 * Retrying in place would hold every later event of the partition behind one
 * that fails (a service away, a bug met by one event only). So the record is
 * copied to the next retry topic of its original topic and the partition
 * moves on; the copy says, in headers, which group retries it, when, and why
 * every earlier attempt failed. After the last configured delay it is parked
 * for a person in the original topic's dead-letter topic. The header names
 * and reason texts are a contract: the Python library writes and reads the
 * same ones.
 */

/** Seconds before attempts 2, 3 and 4 when CONSUMER_RETRY_DELAYS is unset. */
export const DEFAULT_RETRY_DELAYS = Object.freeze([1, 10, 60]);
const NO_RETRIES = 'none';
const ORIGINAL = ['original-topic', 'original-partition', 'original-offset'];
const DEAD_LETTER = ['dlq-topic', 'dlq-partition', 'dlq-offset'];

/**
 * Reads CONSUMER_RETRY_DELAYS: seconds separated by commas ("1,10,60"), or
 * "none" for no retries.
 * @param {string} value
 * @param {number} levels how many retry topics each topic has
 * @returns {number[]} seconds, one per retry level used
 * @throws {Error} saying what is wrong with the value
 */
export function parseRetryDelays(value, levels) {
  if (value.trim().toLowerCase() === NO_RETRIES) return [];
  const delays = value.split(',').map((part) => {
    const seconds = Number(part.trim());
    if (part.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
      throw new Error(`"${part.trim()}" is not a positive number of seconds (1,10,60 or none)`);
    }
    return seconds;
  });
  if (delays.length > levels) {
    const found = `${delays.length} delays, but each topic has only ${levels} retry topics`;
    throw new Error(`${found} (contracts/topics.json)`);
  }
  return delays;
}

/** A header's text; kafkajs gives a Buffer, or an array when repeated (the last wins). */
export function headerText(headers, name) {
  const value = [headers?.[name]].flat().at(-1);
  return value === undefined || value === null ? undefined : value.toString();
}

export function reasonHeader(attempt) {
  return `attempt-${attempt}-reason`;
}

export function gaveUpReason(attempts, reason) {
  return `gave up after ${attempts} attempts: ${reason}`;
}

/** A retry record written by another group: groups share retry topics. */
export function isForeign(headers, groupId) {
  const group = headerText(headers, 'retry-group');
  return group !== undefined && group !== groupId;
}

/**
 * When a retry record may be tried: its `retry-due`, but never later than
 * this consumer's own delay for the record's level after the record was
 * written, so a far-future or missing `retry-due` cannot park a partition.
 * @returns {number} milliseconds since the epoch
 */
export function dueAt(headers, timestamp, delaySeconds) {
  const latest = Number(timestamp) + Math.round(delaySeconds * 1000);
  const stated = headerText(headers, 'retry-due');
  return /^\d+$/.test(stated ?? '') ? Math.min(Number(stated), latest) : latest;
}

/**
 * Where a record goes after attempt `level + 1` failed: the next retry topic
 * while a delay is configured for it, else the original topic's dead letters.
 *
 * @param {{topic, partition, offset, headers}} record as read
 * @param {object} options
 * @param {import('./events.js').Contracts} options.contracts
 * @param {string} options.groupId
 * @param {number[]} options.delays seconds, per retry level
 * @param {string} options.reason why this attempt failed
 * @param {number} options.now milliseconds since the epoch
 * @returns {{outcome: 'retried'|'dead-lettered', reason: string, topic: string, headers: object}}
 */
export function afterFailure(record, { contracts, groupId, delays, reason, now }) {
  const { topic: origin, level } = contracts.originOf(record.topic);
  const attempt = level + 1;
  if (delays.length === 0) return deadLetter(record, { contracts, groupId, reason });
  if (attempt > delays.length) {
    const extra = { [reasonHeader(attempt)]: reason };
    return deadLetter(record, { contracts, groupId, reason: gaveUpReason(attempt, reason), extra });
  }
  const headers = {
    ...record.headers,
    'retry-group': groupId,
    attempt: String(attempt + 1),
    'retry-due': String(now + Math.round(delays[level] * 1000)),
    [reasonHeader(attempt)]: reason,
  };
  // Where the record was first read: set once, at the first retry.
  if (level === 0) Object.assign(headers, named(ORIGINAL, coordinates(record)));
  return { outcome: 'retried', reason, topic: contracts.retryTopic(origin, attempt), headers };
}

/**
 * The dead letter of a record, in its original topic's dead-letter topic;
 * its `dlq-*` coordinates are where the record was first read.
 * @returns {{outcome: 'dead-lettered', reason: string, topic: string, headers: object}}
 */
export function deadLetter(record, { contracts, groupId, reason, extra = {} }) {
  const { topic: origin, level } = contracts.originOf(record.topic);
  let where = coordinates(record);
  if (level > 0) {
    where = where.map((own, index) => headerText(record.headers, ORIGINAL[index]) ?? own);
  }
  const headers = {
    ...record.headers,
    ...extra,
    'dlq-reason': reason,
    ...named(DEAD_LETTER, where),
    'dlq-group': groupId,
  };
  const topic = `${origin}${contracts.deadLetterSuffix}`;
  return { outcome: 'dead-lettered', reason, topic, headers };
}

function coordinates({ topic, partition, offset }) {
  return [topic, String(partition), String(offset)];
}

function named(names, values) {
  return Object.fromEntries(names.map((name, index) => [name, values[index]]));
}
