/**
 * Telemetry started as a service starts it, but with its spans kept in
 * memory instead of exported: what a test reads. Start it before importing
 * what it should instrument (Express loads through a loader hook).
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry } from '../../src/telemetry.js';

/** @returns {Promise<{finished: () => Promise<object[]>, clear: () => void}>} */
export async function collectSpans(service = 'telemetry-test') {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor(exporter);
  await startTelemetry({ service, spanProcessors: [processor] });
  return {
    /** The spans ended so far, once each has reached the exporter. */
    async finished() {
      await processor.forceFlush();
      return exporter.getFinishedSpans();
    },
    clear: () => exporter.reset(),
  };
}

/** The ids a span is known by in a log line, and in a traceparent. */
export function idsOf(span) {
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId, parentSpanId: span.parentSpanContext?.spanId };
}

export function traceparentOf(span) {
  const { traceId, spanId } = span.spanContext();
  return `00-${traceId}-${spanId}-01`;
}
