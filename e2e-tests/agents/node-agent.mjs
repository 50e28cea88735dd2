/**
 * A tiny service that only registers and discovers, through the Node.js client.
 *
 * End-to-end tests start it (and its Python twin, python_agent.py) as a real
 * process to show both registry clients behave the same. Environment:
 * REGISTRY_URL, REGISTRY_TOKEN, AGENT_SERVICE, PORT.
 *
 *   GET /discover/:name → 200 {"instances": [...]} from the local cache
 *   GET /livez          → 200 {"status": "ok", "registered": bool}
 */
import http from 'node:http';
import { once } from 'node:events';
import {
  createDiscovery, createLogger, createRegistration, onShutdown, RegistryApi,
} from '@polyshop/common';

function readConfig(env) {
  const required = ['REGISTRY_URL', 'REGISTRY_TOKEN', 'AGENT_SERVICE', 'PORT'];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`node-agent needs ${missing.join(', ')} in the environment`);
  }
  return Object.freeze({
    registryUrl: env.REGISTRY_URL,
    registryToken: env.REGISTRY_TOKEN,
    service: env.AGENT_SERVICE,
    port: Number(env.PORT),
  });
}

function sendJson(res, status, payload) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

function createServer({ registration, discovery, service }) {
  return http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://agent');
    const discover = pathname.match(/^\/discover\/([^/]+)$/);
    if (req.method === 'GET' && discover) {
      const instances = discovery.instances(decodeURIComponent(discover[1]));
      return sendJson(res, 200, { instances });
    }
    if (req.method === 'GET' && pathname === '/livez') {
      return sendJson(res, 200, { status: 'ok', registered: registration.isRegistered });
    }
    // What a gateway routing to this service reaches (it strips /api).
    if (req.method === 'GET' && pathname === `/${service}`) {
      return sendJson(res, 200, { instance: registration.instanceId, client: 'node-agent' });
    }
    return sendJson(res, 404, { error: 'not found' });
  });
}

async function main() {
  const config = readConfig(process.env);
  const logger = createLogger({ service: 'node-agent' });
  const api = new RegistryApi({ baseUrl: config.registryUrl, token: config.registryToken });
  const registration = createRegistration({
    api, service: config.service, host: '127.0.0.1', port: config.port, logger,
  });
  const discovery = createDiscovery({ api, waitSeconds: 10, logger });
  const server = createServer({ registration, discovery, service: config.service });

  // Deregister first, so no caller is sent to a port that is closing.
  onShutdown(async () => {
    await registration.close();
    server.close();
    await discovery.close();
    await once(server, 'close');
  }, { logger });

  server.listen(config.port, '127.0.0.1');
  await once(server, 'listening');
  logger.info({ port: config.port, registers_as: config.service }, 'listening');
  registration.start();
  discovery.start();
}

await main();
