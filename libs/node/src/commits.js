/**
 * Offsets committed at intervals, not after every batch.
 *
 * A commit is a broker round trip and a record in `__consumer_offsets`:
 * after every batch, that was seven records per order at 50 orders a second.
 * Committing at most every COMMIT_EVERY_MS keeps at-least-once as it was: an
 * offset is still committed only after its record's work is durable, and
 * what a crash gives to the next owner again (at most that interval's
 * records) the idempotent handlers make harmless. A pending offset is
 * committed COMMIT_EVERY_MS after the last commit, busy or idle, and the loop
 * commits what it has done when it stops.
 *
 * An offset of a partition the group has since given to another member is
 * dropped, not committed: that member started from the last committed offset
 * and owns the partition's progress now. The Python library does the same
 * (kafka_io/commits.py).
 */
export const COMMIT_EVERY_MS = 200;

export class Commits {
  #commit; #log; #every; #clock;
  #pending = new Map(); // "topic/partition" → { topic, partition, offset }
  #last;
  #timer = null;

  /**
   * @param {object} options
   * @param {(offsets: object[]) => Promise<void>} options.commit the consumer's commitOffsets
   * @param {import('pino').Logger} options.log
   */
  constructor({ commit, log, every = COMMIT_EVERY_MS, clock = Date.now }) {
    this.#commit = commit;
    this.#log = log;
    this.#every = every;
    this.#clock = clock;
    this.#last = clock();
  }

  /** The record at `offset` and every one before it in the partition are durable. */
  done(topic, partition, offset) {
    const next = (BigInt(offset) + 1n).toString();
    this.#pending.set(`${topic}/${partition}`, { topic, partition, offset: next });
    this.#timer ??= setTimeout(() => this.commit(), this.#last + this.#every - this.#clock());
  }

  /** The group's new assignment for this member, as kafkajs's GROUP_JOIN gives it. */
  assigned(memberAssignment) {
    for (const [key, { topic, partition }] of this.#pending) {
      if (!memberAssignment[topic]?.includes(partition)) this.#pending.delete(key);
    }
  }

  /** Commit what is pending, now. */
  async commit() {
    clearTimeout(this.#timer);
    this.#timer = null;
    const offsets = [...this.#pending.values()];
    this.#pending.clear();
    this.#last = this.#clock();
    if (offsets.length === 0) return;
    try {
      await this.#commit(offsets);
    } catch (error) {
      // The work is durable and idempotent: a redelivery after this changes nothing.
      this.#log.warn({ err: error }, 'offset commit failed');
    }
  }

  /** Drop what is pending without committing it (the consumer is gone). */
  forget() {
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending.clear();
  }
}
