/**
 * Links from an order to its trace in a trace UI. TRACE_VIEW_URL is a URL
 * template (Zipkin: http://127.0.0.1:9411/zipkin/traces/{trace_id}, Jaeger:
 * http://localhost:16686/trace/{trace_id}); a link is the template with the
 * order's trace id in place of `{trace_id}`. Only a well-formed trace id
 * goes in: whatever a row holds, a link never carries anything else.
 */
const PLACEHOLDER = '{trace_id}';

// W3C Trace Context's trace id: 32 lower-case hex digits, not all zero.
const TRACE_ID = /^(?!0{32}$)[0-9a-f]{32}$/;

export function isTraceId(value) {
  return typeof value === 'string' && TRACE_ID.test(value);
}

/**
 * Why a TRACE_VIEW_URL cannot be used, or null when it can.
 * @param {string} template
 */
export function templateProblem(template) {
  if (!template.includes(PLACEHOLDER)) return `has no ${PLACEHOLDER} for the trace id`;
  let url;
  try {
    url = new URL(template.replaceAll(PLACEHOLDER, '0'.repeat(31) + '1'));
  } catch {
    url = null;
  }
  if (!url || !/^https?:\/\/[^/\s]/i.test(template) || /\s/.test(template)) {
    return 'is not an absolute http(s) URL';
  }
  // Every visitor of an order page would read them in the link.
  if (url.username || url.password) return 'must not hold a user name or password';
  return null;
}

/**
 * @param {string|null} template TRACE_VIEW_URL, null when unset
 * @returns {{shown: boolean, href: (traceId?: string|null) => string|null}} shown: pages
 *   link to traces at all; href: a trace's link, null for an id that is not one
 */
export function linksToTraces(template) {
  return {
    shown: Boolean(template),
    href: (traceId) => (template && isTraceId(traceId) ? template.replaceAll(PLACEHOLDER, traceId) : null),
  };
}

/**
 * A step or a lane as a page gets it: its `trace_id` becomes `trace_url`,
 * or goes when no link is shown (the setting unset, the id unknown).
 */
export function withTraceUrl(links) {
  return ({ trace_id: traceId, ...item }) => {
    const url = links.href(traceId);
    return url ? { ...item, trace_url: url } : item;
  };
}
