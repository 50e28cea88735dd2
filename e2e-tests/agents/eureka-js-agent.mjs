/**
 * A stock Eureka client in Node.js (eureka-js-client), unchanged, against
 * polyshop's registry. Registers AGENT_SERVICE with the registry's Eureka API
 * at EUREKA_URL (which carries the registry credential as user and password),
 * renews and fetches every RENEW_SECONDS, and answers:
 *
 *   GET / or /<service>    which service and instance this is, and its client
 *   GET /discovered/:app   the instances of :app this client's copy holds
 */
import http from 'node:http';
import { Eureka } from 'eureka-js-client';

const service = process.env.AGENT_SERVICE;
const port = Number(process.env.PORT);
const instanceId = `${service}-127.0.0.1-${port}`;
const intervalMs = Number(process.env.RENEW_SECONDS ?? '1') * 1000;

const client = new Eureka({
  instance: {
    app: service.toUpperCase(),
    instanceId,
    hostName: '127.0.0.1',
    ipAddr: '127.0.0.1',
    port: { $: port, '@enabled': true },
    vipAddress: service,
    statusPageUrl: `http://127.0.0.1:${port}/`,
    leaseInfo: { renewalIntervalInSecs: intervalMs / 1000, durationInSecs: (3 * intervalMs) / 1000 },
    dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$MyDataCenterInfo', name: 'MyOwn' },
  },
  eureka: {
    serviceUrls: { default: [`${process.env.EUREKA_URL}/apps/`] },
    heartbeatInterval: intervalMs,
    registryFetchInterval: intervalMs,
  },
  shouldUseDelta: true,
  logger: { debug() {}, info: console.log, warn: console.warn, error: console.error },
});

function reply(response, body) {
  response.writeHead(200, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

const server = http.createServer((request, response) => {
  if (request.url === '/' || request.url === `/${service}`) { // the gateway sends /<service>
    reply(response, { service, instance: instanceId, client: 'eureka-js-client' });
  } else if (request.url.startsWith('/discovered/')) {
    const app = request.url.slice('/discovered/'.length);
    const instances = client.getInstancesByAppId(app.toUpperCase()).map((instance) => ({
      instanceId: instance.instanceId, host: instance.ipAddr, port: instance.port.$,
    }));
    reply(response, { service: app, instances });
  } else {
    response.writeHead(404).end();
  }
});

server.listen(port, '127.0.0.1', () => client.start());
process.on('SIGTERM', () => client.stop(() => server.close(() => process.exit(0))));
