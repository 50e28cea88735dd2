/**
 * What the system view shows, gathered while someone is looking: the
 * registry's instances and recent evictions, the gateway's routes and
 * breakers, Kafka's consumer lag and dead letters, and the saga's latest
 * orders lane by lane. One gathering serves every open view; it runs only
 * while at least one is open, once a second (Kafka's part every other
 * second: each asks the broker's admin API). A part that cannot be read is
 * sent as `{error}` and the rest still goes out.
 */
import http from 'node:http';
import { consumerGroupLags, topicSizes, untraced } from '@polyshop/common';
import { deadLetterTopics, sagaTopics } from '../consumers/index.js';
import { latestDeadLetters } from '../domain/dead-letters.js';
import { recentOrders } from '../domain/timeline.js';
import { mergeGatewayStatus } from './gateway-status.js';

const INTERVAL_MS = 1000;
const GATEWAY_TIMEOUT_MS = 2000;

export function createSystemMonitor({ api, gatewayUrl, kafka, contracts, db, logger }) {
  const log = logger.child({ component: 'system-monitor' });
  const listeners = new Set();
  const gatewayWorkers = new Map();
  let timer = null;
  let tick = 0;
  let kafkaPart = null;

  async function gather() {
    tick += 1;
    if (tick % 2 === 1 || kafkaPart === null) kafkaPart = await part(() => kafkaView());
    const [registry, gateway] = await Promise.all([part(registryView), part(gatewayView)]);
    const lanes = recentOrders(db);
    return { generated_at: new Date().toISOString(), registry, gateway, kafka: kafkaPart, lanes };
  }

  async function part(read) {
    try {
      return await read();
    } catch (error) {
      log.debug({ err: error }, 'part of the system view unavailable');
      return { error: error.message };
    }
  }

  async function registryView() {
    const [{ services }, evictions] = await Promise.all([api.listServices(), api.listEvictions()]);
    const instances = Object.values(services).flat().map((instance) => ({
      service: instance.service,
      instance_id: instance.instance_id,
      language: instance.metadata?.language ?? null,
      address: `${instance.host}:${instance.port}`,
      registered_at: instance.registered_at,
      last_heartbeat_at: instance.last_heartbeat_at,
      lease_expires_at: instance.lease_expires_at,
    }));
    const evicted = evictions.map(({ service, instance_id: id, evicted_at: at }) => ({
      service, instance_id: id, evicted_at: at,
    }));
    return { instances, evictions: evicted };
  }

  async function gatewayView() {
    const status = await fetchGatewayStatus(gatewayUrl);
    gatewayWorkers.set(status.worker, { status, seenAt: Date.now() });
    return mergeGatewayStatus(gatewayWorkers);
  }

  async function kafkaView() {
    const deadTopics = deadLetterTopics(contracts);
    const [groups, sizes] = await Promise.all([
      consumerGroupLags(kafka, [...sagaTopics(contracts), ...deadTopics]),
      topicSizes(kafka, deadTopics),
    ]);
    const deadLetters = deadTopics.map((topic) => ({
      topic, count: sizes[topic], latest: latestDeadLetters(db, topic),
    }));
    return { groups, dead_letters: deadLetters };
  }

  async function run() {
    try {
      const snapshot = await gather();
      for (const listener of listeners) listener(snapshot);
    } catch (error) {
      // A view that failed once tries again next second; it never stops the service.
      log.error({ err: error }, 'system view snapshot failed');
    }
    timer = listeners.size > 0 ? setTimeout(run, INTERVAL_MS) : null;
  }

  return {
    /** @returns {() => void} unsubscribes; the first subscriber starts the gathering */
    subscribe(listener) {
      listeners.add(listener);
      // Untraced: a gathering a second is no one's request, and would hang
      // span after span under the request of the first page that opened.
      if (timer === null) timer = untraced(() => setTimeout(run, 0));
      return () => listeners.delete(listener);
    },
    stop() {
      listeners.clear();
      clearTimeout(timer);
    },
  };
}

/**
 * GET /gateway/status on a new connection each time: the gateway runs
 * several worker processes, each with its own counters, and a kept-alive
 * connection would only ever reach one of them.
 */
function fetchGatewayStatus(gatewayUrl) {
  return new Promise((resolve, reject) => {
    const request = http.get(`${gatewayUrl}/gateway/status`, {
      agent: false, timeout: GATEWAY_TIMEOUT_MS, headers: { accept: 'application/json' },
    }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => {
        if (response.statusCode !== 200) return reject(new Error(`gateway answered ${response.statusCode}`));
        try {
          return resolve(JSON.parse(body));
        } catch (error) {
          return reject(error);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('gateway did not answer in time')));
    request.on('error', reject);
  });
}
