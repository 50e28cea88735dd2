/**
 * JSON logs to stdout, one logger per process.
 *
 * The line format matches the Python pieces (`time`, `level` as a word,
 * `service`, `message`), so the logs of every piece can be merged and
 * searched the same way. Modules take the logger as a dependency and make a
 * child of it; nothing here is a hidden singleton. A line written while a
 * span is active carries its `trace_id` and `span_id` too: from a log line
 * to its trace, and back (telemetry.js).
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';

// Secrets never reach a log line, wherever a caller puts them: request
// headers, an options object, a parsed body.
const SECRET_PATHS = [
  'authorization',
  'token',
  'password',
  'access_token',
  'refresh_token',
  'secret',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.token',
  '*.password',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  '*.headers.authorization',
];

/**
 * @param {object} options
 * @param {string} options.service the piece's name, put on every line
 * @param {string} [options.level] pino level name ('info', 'debug', 'silent', ...)
 * @param {string[]} [options.redact] more paths to hide (personal data of one service)
 * @param {import('node:stream').Writable} [options.destination] stdout unless given (tests)
 */
export function createLogger({ service, level = 'info', redact = [], destination } = {}) {
  const options = {
    level,
    base: { service },
    messageKey: 'message',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: traceIds,
    redact: { paths: [...SECRET_PATHS, ...redact], censor: '[redacted]' },
  };
  // Synchronous writes to stdout: the last lines before process.exit() are
  // not lost, and lines keep their order with what else the process prints.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

// Whether the span records or not (tracing off still gives real ids).
function traceIds() {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}
