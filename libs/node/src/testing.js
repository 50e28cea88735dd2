/**
 * Helpers for the services' tests (`@polyshop/common/testing`); nothing a
 * running service needs.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';

export {
  randomSecret, startTestIssuer, strangerKey, TestIssuer,
} from './test-issuer.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/**
 * Polling with a deadline instead of sleeping and hoping: the test goes on
 * as soon as the condition holds, and fails with a clear message if it never does.
 */
export async function eventually(condition, { timeoutMs = 5000, intervalMs = 20, message } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`not true within ${timeoutMs} ms: ${message ?? condition.toString()}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * The operations an Express app routes, as sorted "METHOD /path/{param}"
 * strings. Routers must be mounted at '/' (routes carry their full path).
 */
export function expressOperations(app) {
  const operations = new Set();
  const walk = (stack) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
        for (const method of Object.keys(layer.route.methods)) {
          if (method !== '_all') operations.add(`${method.toUpperCase()} ${path}`);
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk(app.router.stack);
  return [...operations].sort();
}

/** The operations an OpenAPI file describes, in the same form. */
export function openapiOperations(file) {
  const document = parse(readFileSync(file, 'utf8'));
  const operations = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS.filter((name) => name in item)) {
      operations.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return operations.sort();
}
