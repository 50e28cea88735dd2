/**
 * The case files of contracts/conformance/, which both libraries run; the
 * values they describe, built as contracts/conformance/README.md says (the
 * Python runners build them alike: libs/python/tests/conftest.py); and the
 * scripted registry of the registry-client cases.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { findContractsDir } from '../../src/events.js';

const contractsDir = findContractsDir();

/** @returns {object} contracts/conformance/NAME.json */
export function conformanceFile(name) {
  return JSON.parse(readFileSync(join(contractsDir, 'conformance', `${name}.json`), 'utf8'));
}

/** @returns {object[]} the cases of contracts/conformance/NAME.json */
export function conformanceCases(name) {
  return conformanceFile(name).cases;
}

/**
 * A record value as a case writes it.
 * @returns {Buffer|null}
 */
export function buildValue(spec) {
  if (spec === null) return null;
  if ('utf8' in spec) return Buffer.from(spec.utf8, 'utf8');
  if ('base64' in spec) return Buffer.from(spec.base64, 'base64');
  if ('json' in spec) return Buffer.from(JSON.stringify(spec.json), 'utf8');
  if ('nested' in spec) return Buffer.from('['.repeat(spec.nested) + ']'.repeat(spec.nested));
  if ('file' in spec) return readFileSync(join(contractsDir, spec.file));
  if ('event' in spec) return Buffer.from(JSON.stringify(buildEvent(spec)), 'utf8');
  throw new Error(`not a value of a conformance case: ${JSON.stringify(spec)}`);
}

/**
 * The valid example of `spec.event`, with a fresh id, `time` now (or
 * `age_seconds` ago), then the case's `set`, `remove` and `nest`.
 */
export function buildEvent(spec) {
  const file = join(contractsDir, 'events', 'examples', `${spec.event}.valid.json`);
  const event = JSON.parse(readFileSync(file, 'utf8'));
  event.id = randomUUID();
  event.time = new Date(Date.now() - (spec.age_seconds ?? 0) * 1000).toISOString();
  for (const [pointer, value] of Object.entries(spec.set ?? {})) at(event, pointer).set(value);
  for (const pointer of spec.remove ?? []) at(event, pointer).remove();
  for (const [pointer, levels] of Object.entries(spec.nest ?? {})) at(event, pointer).set(nested(levels));
  return event;
}

function nested(levels) {
  let value = [];
  for (let level = 1; level < levels; level += 1) value = [value];
  return value;
}

/** The place a JSON Pointer names, in the object or array that holds it. */
function at(document, pointer) {
  const names = pointer.split('/').slice(1);
  const last = names.pop();
  const parent = names.reduce((node, name) => node[name], document);
  const key = Array.isArray(parent) ? Number(last) : last;
  return {
    set: (value) => { parent[key] = value; },
    remove: () => { delete parent[key]; },
  };
}

/**
 * A registry that answers from a case's script, in order, and records the
 * requests. After the script: a heartbeat gets 200, a DELETE 204, and a GET
 * (a long poll) waits until the registry stops.
 */
export class ScriptedRegistry {
  requests = [];
  #script;
  #server = http.createServer((req, res) => this.#handle(req, res));

  constructor(exchanges) {
    this.#script = [...exchanges];
  }

  get url() {
    return `http://127.0.0.1:${this.#server.address().port}`;
  }

  get done() {
    return this.#script.length === 0;
  }

  async start() {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  async stop() {
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req, res) {
    let body = '';
    for await (const chunk of req) body += chunk;
    const request = `${req.method} ${req.url}`;
    this.requests.push({
      request, body: body ? JSON.parse(body) : null, authorization: req.headers.authorization, at: Date.now(),
    });
    const step = this.#script.shift();
    if (step) return answer(res, step);
    if (req.method === 'GET') return undefined; // held until stop()
    return answer(res, req.method === 'DELETE' ? { status: 204 } : { status: 200, answer: {} });
  }
}

function answer(res, { status, answer: payload, index }) {
  const headers = { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' };
  if (index !== undefined) headers['x-registry-index'] = String(index);
  res.writeHead(status, headers);
  res.end(payload === undefined ? undefined : JSON.stringify(payload));
}
