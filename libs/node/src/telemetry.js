/**
 * Traces, the OpenTelemetry way (docs/observability.md); the Python twin is
 * polyshop_common.telemetry, and both follow the same conventions.
 *
 * `startTelemetry` sets up the SDK once per process, from the standard
 * OTEL_* variables only:
 *
 * - OTEL_TRACES_EXPORTER: `zipkin` (Zipkin's v2 JSON API), `otlp` (OTLP over
 *   HTTP/protobuf, the one OTLP transport both libraries ship), `console`,
 *   or `none`. Unset means `none`: tracing is off. A trace then starts
 *   unsampled (the sampler is ParentBased(AlwaysOff) unless
 *   OTEL_TRACES_SAMPLER says otherwise) and nothing is exported, but every
 *   request and record still has a trace id and a span id, so logs and the
 *   context passed on keep working, and a caller's sampled flag is passed on
 *   as it came.
 * - OTEL_SERVICE_NAME (the piece's own name by default),
 *   OTEL_EXPORTER_ZIPKIN_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT,
 *   OTEL_TRACES_SAMPLER and its _ARG, OTEL_BSP_*: read by the SDK itself.
 *
 * OTEL_SDK_DISABLED=true sets up nothing at all: no SDK, no instrumentation,
 * no trace ids. It is the baseline the cost of tracing is measured against
 * (docs/benchmarks/tracing.md), not a way to run the shop.
 *
 * It must run before Express is imported: an ES module is instrumented as it
 * loads, through a loader hook. So a service's server.js starts telemetry
 * first and then imports the rest of the service (`await import(...)`).
 * HTTP spans come from the http, Express and undici (fetch) instrumentations;
 * the Kafka spans are written by kafka-spans.js. Nothing else is exported:
 * metrics come from prom-client, logs stay on stdout (logger.js adds the
 * trace and span ids to each line).
 *
 * The rest of this module needs only the API, and works, doing nothing,
 * in a process that never started telemetry (a unit test).
 */
import { createRequire, register } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  context, propagation, ROOT_CONTEXT, trace,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

const EXPORTERS = ['zipkin', 'otlp', 'console'];
const OFF = 'none';
const OTLP_PROTOCOL = 'http/protobuf';
// Probes and scrapes every few seconds would bury the traces that matter.
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/livez', '/metrics']);
// The modules the loader hook wraps: the others load untouched, and faster.
const HOOKED_MODULES = ['express'];
// A tracing backend that does not answer must not make a clean stop fail.
const FLUSH_TIMEOUT_MS = 5000;

let provider = null;

/**
 * What OTEL_TRACES_EXPORTER asks for.
 * @returns {{exporter: string, off: boolean}}
 * @throws {Error} saying which value is wrong
 */
export function tracingSettings(env) {
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim() || OFF;
  if (exporter !== OFF && !EXPORTERS.includes(exporter)) {
    const known = [...EXPORTERS, OFF].sort().join(', ');
    throw new Error(`OTEL_TRACES_EXPORTER=${exporter}: expected one of ${known}`);
  }
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (exporter === 'otlp' && protocol && protocol !== OTLP_PROTOCOL) {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: only ${OTLP_PROTOCOL} is supported`);
  }
  return { exporter, off: exporter === OFF };
}

/**
 * Sets up tracing for this process, from process.env's OTEL_* (the SDK
 * reads most of them itself); once: a second call does nothing. A setting
 * it cannot use stops the process, as a bad setting of the service does.
 *
 * @param {object} options
 * @param {string} options.service the piece's name, unless OTEL_SERVICE_NAME is set
 * @param {import('@opentelemetry/sdk-trace-base').SpanProcessor[]} [options.spanProcessors]
 *   where the spans go instead of OTEL_TRACES_EXPORTER's exporter (tests keep them in memory)
 */
export async function startTelemetry({ service, spanProcessors } = {}) {
  const { env } = process;
  if (provider || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return;
  let settings;
  try {
    settings = tracingSettings(env);
  } catch (error) {
    process.stderr.write(`${service} could not start: ${error.message}\n`);
    process.exit(1);
  }
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: HOOKED_MODULES },
  });
  // Loaded here, not at the top: a process that never traces does not pay for the SDK.
  // The tracing SDK alone: @opentelemetry/sdk-node would also load the metrics
  // and logs SDKs and every exporter, gRPC included, which the shop never uses.
  const [{ NodeTracerProvider }, sdkTrace, resources, { registerInstrumentations }, instrumentations] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'), import('@opentelemetry/instrumentation'), loadInstrumentations(),
  ]);
  const off = settings.off && !spanProcessors;
  provider = new NodeTracerProvider({
    resource: resourceOf(service, env, resources),
    // Unset, the SDK reads OTEL_TRACES_SAMPLER (parent-based, always on, by default).
    sampler: off && !env.OTEL_TRACES_SAMPLER
      ? new sdkTrace.ParentBasedSampler({ root: new sdkTrace.AlwaysOffSampler() }) : undefined,
    spanProcessors: spanProcessors ?? (off ? [] : [await exportingProcessor(settings.exporter, sdkTrace)]),
  });
  // W3C trace context and baggage, and a context that follows async calls.
  provider.register();
  registerInstrumentations({ tracerProvider: provider, instrumentations });
  // The http instrumentation patches node:http's exports, in place, when the
  // module is next required. Require it now, so that a module which imported
  // it before telemetry started (the service client, in a test that starts
  // telemetry in `before`) calls the patched functions too.
  createRequire(import.meta.url)('http');
}

/** The piece's name, unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names it, with its host and process. */
function resourceOf(service, env, resources) {
  const detected = resources.detectResources({
    detectors: [resources.hostDetector, resources.processDetector, resources.envDetector],
  });
  const named = env.OTEL_SERVICE_NAME ? detected
    : resources.resourceFromAttributes({ 'service.name': service }).merge(detected);
  return resources.defaultResource().merge(named);
}

/**
 * Where OTEL_TRACES_EXPORTER sends the spans: batched (OTEL_BSP_* tune the
 * batches), except on the console, where each span is printed as it ends.
 * The exporters read their own endpoints from OTEL_EXPORTER_*.
 */
async function exportingProcessor(exporter, sdkTrace) {
  if (exporter === 'console') return new sdkTrace.SimpleSpanProcessor(new sdkTrace.ConsoleSpanExporter());
  const made = exporter === 'zipkin'
    ? new (await import('@opentelemetry/exporter-zipkin')).ZipkinExporter()
    : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  return new sdkTrace.BatchSpanProcessor(made);
}

async function loadInstrumentations() {
  const [http, express, undici] = await Promise.all([
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-express'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  const { ExpressLayerType: layer } = express;
  return [
    new http.HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(request.url.split('?')[0]),
    }),
    // One span per request, as the Python services have: Express only names
    // it after its route (GET /stock/:sku), with no span per middleware.
    new express.ExpressInstrumentation({
      ignoreLayersType: [layer.MIDDLEWARE, layer.ROUTER, layer.REQUEST_HANDLER],
    }),
    new undici.UndiciInstrumentation(),
  ];
}

/**
 * Sends the spans still buffered and stops tracing (the last step of a
 * graceful stop); nothing if telemetry was never started.
 * @returns {Promise<boolean>} false if the spans could not be sent in time
 */
export async function stopTelemetry({ timeoutMs = FLUSH_TIMEOUT_MS } = {}) {
  if (!provider) return true;
  const stopping = provider.shutdown().then(() => true, () => false);
  provider = null;
  return Promise.race([stopping, sleep(timeoutMs, false, { ref: false })]);
}

export function tracer() {
  return trace.getTracer('@polyshop/common');
}

/**
 * The active context as W3C headers (`traceparent`, `tracestate`), to keep
 * with what is written now and sent later (an outbox row).
 * @returns {Record<string, string>}
 */
export function carrier(from = context.active()) {
  const headers = {};
  propagation.inject(from, headers);
  return headers;
}

/** The context a carrier (an outbox row's headers, a request's) holds. */
export function contextOf(headers) {
  return propagation.extract(ROOT_CONTEXT, headers ?? {});
}

/** Runs `work` with the context a carrier holds as the active one: the trace of an event handled. */
export function within(headers, work) {
  return context.with(contextOf(headers), work);
}

/**
 * Runs `work` making no spans, and passing no trace on: the registry
 * client's heartbeats and watches, which would each start a trace of their
 * own every few seconds, and other calls that are no one's request.
 */
export function untraced(work) {
  return context.with(suppressTracing(context.active()), work);
}
