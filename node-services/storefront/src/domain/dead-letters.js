/**
 * The latest dead letters of each topic, with their reasons, for the system
 * view. The records themselves stay in their TOPIC.dlq; only what the view
 * shows is kept here, and only the newest few per topic.
 */

export const KEPT_PER_TOPIC = 20;

/** @param {{topic, partition, offset, headers, timestamp}} record a record of a TOPIC.dlq */
export function recordDeadLetter(db, { topic, partition, offset, headers, timestamp }) {
  const at = new Date(Number.isFinite(timestamp) ? timestamp : Date.now()).toISOString();
  db.transaction(() => {
    db.prepare(
      `INSERT OR IGNORE INTO dead_letters (topic, partition, "offset", reason, source, at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(topic, partition, String(offset), headers['dlq-reason'] || 'no reason given',
      headers['dlq-group'] || 'unknown', at);
    db.prepare(
      `DELETE FROM dead_letters WHERE topic = ? AND rowid NOT IN (
         SELECT rowid FROM dead_letters WHERE topic = ? ORDER BY at DESC, rowid DESC LIMIT ?)`,
    ).run(topic, topic, KEPT_PER_TOPIC);
  })();
}

/** @returns {object[]} the newest first */
export function latestDeadLetters(db, topic, limit = 5) {
  return db.prepare(
    `SELECT partition, "offset", reason, source, at FROM dead_letters
     WHERE topic = ? ORDER BY at DESC, rowid DESC LIMIT ?`,
  ).all(topic, limit);
}
