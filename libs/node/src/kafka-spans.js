/**
 * The Kafka spans (docs/observability.md), with the messaging semantic
 * conventions: `send {topic}` for every publish, `process {topic}` around
 * each consumed record's work. The Python twin is
 * polyshop_common.kafka_io.spans.
 *
 * A record carries the W3C context of its `send` span in its headers, in
 * place of any it had, and the `process` span is that span's child, not
 * only linked to it: Zipkin keeps no links, and a link alone would split
 * one order into several traces. kafkajs's own instrumentation is not used:
 * its spans of a batch start new traces, and are not active while the
 * handler runs.
 */
import {
  context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
} from '@opentelemetry/api';
import { headerText } from './retries.js';
import { carrier, tracer } from './telemetry.js';

const TRACE_HEADERS = new Set(['traceparent', 'tracestate']);
const TEXT = new TextDecoder('utf-8', { fatal: true });

// kafkajs gives header values as Buffers (a list when repeated).
const RECORD_HEADERS = {
  keys: (headers) => Object.keys(headers ?? {}),
  get: (headers, name) => headerText(headers, name),
};

function base(topic, operation) {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': topic,
  };
}

/** The key as an attribute, when it is text. */
function keyAttribute(key) {
  if (key === null || key === undefined) return {};
  if (typeof key === 'string') return { 'messaging.kafka.message.key': key };
  try {
    return { 'messaging.kafka.message.key': TEXT.decode(key) };
  } catch {
    return {};
  }
}

/**
 * Publishes records to one topic in one request, each under a `send`
 * span, a child of its record's `parent` (the active context if none: for a
 * retry copy or a dead letter, the `process` span of the record it copies).
 *
 * @param {import('kafkajs').Producer} producer
 * @param {object} request `topic`, `records` ({key, value, headers?, parent?}),
 *   and what else kafkajs's send takes (acks, timeout)
 * @returns {Promise<import('kafkajs').RecordMetadata[]>} what kafkajs's send returns
 */
export async function sendRecords(producer, { topic, records, ...options }) {
  const spans = records.map(({ key, parent = context.active() }) => tracer().startSpan(
    `send ${topic}`,
    { kind: SpanKind.PRODUCER, attributes: { ...base(topic, 'send'), ...keyAttribute(key) } },
    parent,
  ));
  const messages = records.map(({ key, value, headers = {} }, index) => (
    { key, value, headers: withContextOf(spans[index], headers) }));
  try {
    const acks = await producer.send({ topic, ...options, messages });
    placed(spans, acks);
    return acks;
  } catch (error) {
    for (const span of spans) failed(span, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

/** `headers` with the span's W3C context in place of any they carried. */
function withContextOf(span, headers) {
  const kept = Object.entries(headers).filter(([name]) => !TRACE_HEADERS.has(name));
  return { ...Object.fromEntries(kept), ...carrier(trace.setSpan(context.active(), span)) };
}

// kafkajs acknowledges a request per partition, not per record: a record's
// place is known when its request went to one partition (the usual case:
// one order's events, one key).
function placed(spans, acks) {
  if (acks?.length !== 1) return;
  const [{ partition, baseOffset }] = acks;
  spans.forEach((span, index) => {
    span.setAttribute('messaging.destination.partition.id', String(partition));
    span.setAttribute('messaging.kafka.offset', Number(baseOffset) + index);
  });
}

/**
 * @param {Error|string} failure an exception, or why when there is none
 * @param {string} [reason] why, as the dead-letter headers word it (the status's message)
 */
function failed(span, failure, reason) {
  if (failure instanceof Error) span.recordException(failure);
  const message = reason ?? failure?.message ?? String(failure);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** The context a record's headers carry (a fresh root's if none). */
function contextOfRecord(headers) {
  return propagation.extract(ROOT_CONTEXT, headers ?? {}, RECORD_HEADERS);
}

/**
 * Runs `work` inside the `process` span of one record, the active span
 * while it runs: what the handler logs, calls and emits belongs to it.
 *
 * @param {{topic: string, partition: number, message: import('kafkajs').KafkaMessage,
 *   group: string}} record
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 * @template T
 */
export function processing({ topic, partition, message, group }, work) {
  const attributes = {
    ...base(topic, 'process'),
    ...keyAttribute(message.key),
    'messaging.destination.partition.id': String(partition),
    'messaging.kafka.offset': Number(message.offset),
    'messaging.consumer.group.name': group,
  };
  const options = { kind: SpanKind.CONSUMER, attributes };
  const parent = contextOfRecord(message.headers);
  return tracer().startActiveSpan(`process ${topic}`, options, parent, async (span) => {
    try {
      return await work();
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active span's work failed: a handler (its exception), or a record dead-lettered (why). */
export function markFailed(reason, error) {
  const span = trace.getActiveSpan();
  if (span) failed(span, error ?? reason, reason);
}
