/**
 * What a consumer loop measures (contracts/metrics.json): the time each
 * record takes and what became of it, the records moved to a dead-letter
 * topic, and its lag on every partition it reads.
 *
 * An attempt that fails and is retried in place counts as 'failed', as in
 * the Python library, where each attempt is a poll of its own; the attempt
 * that succeeds counts with the record's outcome.
 *
 * Lag is set after each batch, from what kafkajs already knows: the high
 * watermark that came with the fetch and the offset of the next record to
 * read. A caught-up consumer's last batch ends at the high watermark, so its
 * lag falls back to 0 without a call of its own to the broker.
 */
import { performance } from 'node:perf_hooks';
import { metric } from './metrics.js';

// Retried in place: its work or its hand-over to a retry topic failed.
export const FAILED = 'failed';
const DEAD_LETTERED = 'dead-lettered';

export class ConsumerMetrics {
  #groupId; #duration; #deadLetters; #lag;

  /** @param {string} groupId */
  constructor(groupId) {
    this.#groupId = groupId;
    this.#duration = metric('messaging_process_duration_seconds');
    this.#deadLetters = metric('polyshop_dead_letters_total');
    this.#lag = metric('polyshop_consumer_lag_records');
  }

  /**
   * Starts the clock of one record read from `topic`.
   * @returns {RecordTiming}
   */
  timing(topic) {
    return new RecordTiming((outcome, seconds) => {
      this.#duration.labels(topic, this.#groupId, outcome).observe(seconds);
      if (outcome === DEAD_LETTERED) this.#deadLetters.labels(topic, this.#groupId).inc();
    });
  }

  /**
   * Sets the lag of a batch's partition once the loop is done with it.
   * @param {import('kafkajs').Batch} batch
   * @param {string|null} next the offset after the last record done; null if none was
   */
  seeBatch(batch, next) {
    const lag = BigInt(batch.highWatermark) - BigInt(next ?? batch.firstOffset());
    this.#lag.labels(batch.topic, this.#groupId, String(batch.partition))
      .set(Number(lag > 0n ? lag : 0n));
  }
}

/** The clock of one record: each attempt is observed once, with what came of it. */
export class RecordTiming {
  #observe;
  #started = performance.now();

  constructor(observe) {
    this.#observe = observe;
  }

  /** An attempt failed and will be tried again: observed as 'failed'. */
  failed() {
    this.#end(FAILED);
  }

  /** The next attempt starts now (the wait before it is no one's work). */
  restart() {
    this.#started = performance.now();
  }

  /**
   * The record is done.
   * @param {{outcome: string}|undefined} result undefined if the loop stopped first:
   *   its failed attempts were observed already
   */
  done(result) {
    if (result) this.#end(result.outcome);
    return result;
  }

  #end(outcome) {
    this.#observe(outcome, (performance.now() - this.#started) / 1000);
  }
}
