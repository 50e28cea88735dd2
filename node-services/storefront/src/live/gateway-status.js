/**
 * The gateway's status as one view, from the answers of its worker
 * processes (each counts its own requests): requests and errors summed per
 * route; per instance, the worst breaker state any worker has and the
 * ejections and requests in flight summed. A worker not heard from for
 * STALE_MS is left out (it may have been replaced).
 */
const STALE_MS = 10000;
const BREAKER_ORDER = ['closed', 'half_open', 'open'];

/** @param {Map<string, {status: object, seenAt: number}>} workers by worker id; stale ones are removed */
export function mergeGatewayStatus(workers, now = Date.now()) {
  for (const [worker, { seenAt }] of workers) {
    if (now - seenAt > STALE_MS) workers.delete(worker);
  }
  const routes = new Map();
  const instances = new Map();
  for (const { status } of workers.values()) {
    for (const route of status.routes) {
      const sum = routes.get(route.prefix) ?? {
        prefix: route.prefix, service: route.service, requests: 0, errors: 0,
        requests_per_second: 0, errors_per_second: 0,
      };
      for (const field of ['requests', 'errors', 'requests_per_second', 'errors_per_second']) {
        sum[field] += route[field];
      }
      routes.set(route.prefix, sum);
    }
    for (const instance of status.instances) {
      const known = instances.get(instance.instance_id);
      instances.set(instance.instance_id, known ? {
        ...known,
        breaker: worse(known.breaker, instance.breaker),
        ejections: known.ejections + instance.ejections,
        outstanding: known.outstanding + instance.outstanding,
      } : { ...instance });
    }
  }
  return {
    workers: workers.size,
    routes: [...routes.values()].map(rounded),
    instances: [...instances.values()].sort((a, b) => a.service.localeCompare(b.service)),
  };
}

function worse(a, b) {
  return BREAKER_ORDER.indexOf(a) >= BREAKER_ORDER.indexOf(b) ? a : b;
}

function rounded(route) {
  return {
    ...route,
    requests_per_second: Math.round(route.requests_per_second * 10) / 10,
    errors_per_second: Math.round(route.errors_per_second * 10) / 10,
  };
}
