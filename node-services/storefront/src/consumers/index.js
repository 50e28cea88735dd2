/**
 * Storefront's consumers.
 *
 * The timeline: group "storefront" on every saga topic. Each event becomes a
 * step of its order's timeline (domain/timeline.js) through the common
 * idempotent consumer loop, which also dead-letters what it cannot parse.
 * The loop handles each record inside its `process` span, a child of the
 * span that sent it, so the active trace while a step is stored is the
 * order's: the timeline keeps its id for the pages' links to the trace.
 * The loop's 'record' event, emitted once a step is stored, is what the
 * live pages push to browsers: the page learns of an event from the event.
 *
 * The dead letters: a read-only tail of every TOPIC.dlq, keeping the latest
 * entries and their reasons for the system view.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { createConsumerLoop, createTopicTail } from '@polyshop/common';
import { SERVICE } from '../config.js';
import { recordDeadLetter } from '../domain/dead-letters.js';
import { recordStep } from '../domain/timeline.js';

export function sagaTopics(contracts) {
  return Object.keys(contracts.topics);
}

export function deadLetterTopics(contracts) {
  return sagaTopics(contracts).map((topic) => `${topic}${contracts.deadLetterSuffix}`);
}

/** Stores an event as a step, with the trace it is handled in. */
export function storeStep(db, event) {
  return recordStep(db, event, { traceId: activeTraceId() });
}

function activeTraceId() {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? span.traceId : undefined;
}

export function createTimelineConsumer({
  kafka, db, contracts, producer, retryDelays, logger,
}) {
  const record = (event, tx) => storeStep(tx, event);
  return createConsumerLoop({
    kafka,
    groupId: SERVICE,
    topics: sagaTopics(contracts),
    handlers: Object.fromEntries(contracts.types.map((type) => [type, record])),
    db,
    contracts,
    producer,
    retryDelays,
    expiry: false, // a timeline records every step, however late it is read
    logger,
  });
}

export function createDeadLetterTail({ kafka, db, contracts, logger }) {
  return createTopicTail({
    kafka,
    groupId: `${SERVICE}-dead-letters`,
    topics: deadLetterTopics(contracts),
    onRecord: (record) => recordDeadLetter(db, record),
    logger,
  });
}
