/**
 * A small in-memory registry speaking the real one's HTTP API, for unit tests
 * of the client. It records every call, can fail the next few requests, can
 * forget an instance (as an expired lease), and can stop and start again on
 * the same port with empty memory (as a restart).
 */
import http from 'node:http';
import { once } from 'node:events';

export class FakeRegistry {
  calls = [];
  failNext = 0;
  #instances = new Map();
  #index = 1;
  #changes = []; // [service, instance_id] of each change, the newest at #index
  #pollers = new Set();
  #server = null;
  port = 0;

  constructor({ leaseTtlSeconds = 15 } = {}) {
    this.leaseTtlSeconds = leaseTtlSeconds;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.#server = http.createServer((req, res) => this.#handle(req, res));
    this.#server.listen(this.port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = this.#server.address().port;
  }

  /** Stops like a crash: open connections (a long poll) are cut, memory is lost. */
  async stop() {
    this.#instances.clear();
    this.#changes = [];
    for (const poller of this.#pollers) this.#release(poller);
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  instances(service) {
    return [...this.#instances.values()].filter((instance) => instance.service === service);
  }

  callsTo(method, pathPart = '') {
    return this.calls.filter((call) => call.method === method && call.path.includes(pathPart));
  }

  add(service, body) {
    const instance = { service, health_url: null, metadata: {}, ...body };
    this.#instances.set(`${service}/${body.instance_id}`, instance);
    this.#changed(service, body.instance_id);
    return instance;
  }

  forget(service, instanceId) {
    this.#instances.delete(`${service}/${instanceId}`);
    this.#changed(service, instanceId);
  }

  #changed(service, instanceId) {
    this.#index += 1;
    this.#changes.push([service, instanceId]);
    for (const poller of this.#pollers) this.#release(poller, poller.answer);
  }

  async #handle(req, res) {
    const url = new URL(req.url, this.url);
    let body = '';
    for await (const chunk of req) body += chunk;
    const { method, headers } = req;
    this.calls.push({
      method,
      path: url.pathname,
      query: url.search,
      authorization: headers.authorization,
      at: Date.now(),
    });
    if (this.failNext > 0) {
      this.failNext -= 1;
      return problem(res, 503, 'registry busy');
    }
    return this.#route(req, res, url, body ? JSON.parse(body) : null);
  }

  #route(req, res, url, body) {
    const [, , , service, , instanceId, action] = url.pathname.split('/');
    if (req.method === 'GET' && url.pathname === '/v1/services') return this.#list(res, url);
    if (req.method === 'POST' && !instanceId) {
      this.add(service, body);
      const lease = { instance_id: body.instance_id, lease_ttl_seconds: this.leaseTtlSeconds };
      return json(res, 201, lease);
    }
    const known = this.#instances.has(`${service}/${instanceId}`);
    if (!known) return problem(res, 404, 'unknown instance');
    if (req.method === 'PUT' && action === 'heartbeat') return json(res, 200, { ok: true });
    if (req.method === 'DELETE') {
      this.forget(service, instanceId);
      return json(res, 204);
    }
    return problem(res, 405, 'not supported by the fake');
  }

  #list(res, url) {
    const answer = () => {
      const services = {};
      for (const instance of this.#instances.values()) {
        (services[instance.service] ??= []).push(instance);
      }
      res.setHeader('X-Registry-Index', String(this.#index));
      json(res, 200, { services });
    };
    const since = url.searchParams.get('since');
    if (since !== null) return this.#delta(res, url, Number(since));
    const index = url.searchParams.get('index');
    if (index === null || Number(index) !== this.#index) return answer();
    this.#hold(res, answer, 1000 * Number(url.searchParams.get('wait')));
  }

  // What changed after `since`, as the real registry answers `?since=`.
  #delta(res, url, since) {
    const answer = () => {
      const behind = this.#index - since;
      if (behind < 0 || behind > this.#changes.length) return problem(res, 410, 'changes not kept');
      const changed = new Map(this.#changes.slice(this.#changes.length - behind)
        .map(([service, id]) => [`${service}/${id}`, { service, instance_id: id }]));
      const changes = [...changed].map(([key, change]) => (
        { ...change, instance: this.#instances.get(key) ?? null }));
      res.setHeader('X-Registry-Index', String(this.#index));
      return json(res, 200, { since, changes });
    };
    if (since !== this.#index) return answer();
    this.#hold(res, answer, 1000 * Number(url.searchParams.get('wait')));
  }

  // A long poll: answered by the next change, or when its wait is over.
  #hold(res, answer, waitMs) {
    const poller = { answer, timer: setTimeout(() => this.#release(poller, answer), waitMs) };
    this.#pollers.add(poller);
    res.on('close', () => this.#release(poller));
  }

  #release(poller, then) {
    clearTimeout(poller.timer);
    this.#pollers.delete(poller);
    then?.();
  }
}

function json(res, status, payload) {
  res.writeHead(status, payload === undefined ? {} : { 'content-type': 'application/json' });
  res.end(payload === undefined ? undefined : JSON.stringify(payload));
}

function problem(res, status, detail) {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  const title = http.STATUS_CODES[status];
  res.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}
