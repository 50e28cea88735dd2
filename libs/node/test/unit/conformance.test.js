/**
 * The conformance cases of contracts/conformance/ that need no broker, run
 * against this library; the Python library runs the same files
 * (libs/python/tests/test_conformance*.py), so both behave alike.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import util from 'node:util';
import { openDatabase } from '../../src/db.js';
import { InvalidEvent, loadContracts } from '../../src/events.js';
import { createTokenVerifier } from '../../src/identity.js';
import { createLogger } from '../../src/logger.js';
import { startTestIssuer, strangerKey } from '../../src/test-issuer.js';
import {
  createOutboxRelay, emitEvent, OUTBOX_LEASE_TABLE, OUTBOX_TABLE,
} from '../../src/outbox.js';
import { instancesPath, RegistryApi } from '../../src/registry/api.js';
import { createDiscovery } from '../../src/registry/discovery.js';
import { createRegistration } from '../../src/registry/registration.js';
import { startTelemetry, within } from '../../src/telemetry.js';
import {
  buildEvent, buildValue, conformanceCases, conformanceFile, ScriptedRegistry,
} from '../support/conformance.js';
import { eventually } from '../support/eventually.js';

const contracts = loadContracts();
const logger = createLogger({ service: 'conformance-test', level: 'silent' });
// As a service does: the trace of an event handled reaches what it emits.
await startTelemetry({ service: 'conformance-test' });

for (const { service, instance_id: instanceId, path } of conformanceCases('registry-paths')) {
  test(`when the registry client names instance ${JSON.stringify(instanceId)} of ${JSON.stringify(service)}, then the path is ${path}`, () => {
    assert.equal(instancesPath(service, instanceId), path);
  });
}

for (const { name, value, valid, reason } of conformanceCases('reading')) {
  const expected = valid ? 'a valid event' : `dead-lettered with "${reason}..."`;
  test(`when a record holds ${name}, then it is ${expected}`, () => {
    const bytes = buildValue(value);
    if (valid) {
      assert.equal(contracts.parse(bytes).id, JSON.parse(bytes.toString()).id);
      return;
    }
    assert.throws(() => contracts.parse(bytes), (error) => {
      assert.ok(error instanceof InvalidEvent, `not an InvalidEvent: ${error}`);
      assert.ok(error.reason.startsWith(reason), `the reason is "${error.reason}"`);
      return true;
    });
  });
}

/** A real SQLite file with the outbox tables, removed after the test. */
function outboxDatabase(t) {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
  const db = openDatabase(join(dir, 'outbox.db'));
  db.exec(OUTBOX_TABLE);
  db.exec(OUTBOX_LEASE_TABLE);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

/** Emits the case's events as one handler would: in one transaction, under one trace. */
function emitAll(db, specs, traceparent) {
  const ids = [];
  within(traceparent ? { traceparent } : {}, () => db.transaction(() => {
    for (const spec of specs) {
      const { type, source, subject, data } = buildEvent(spec);
      ids.push(emitEvent(db, { contracts }, { type, source, subject, data }).id);
    }
  })());
  return ids;
}

/** The outbox, in order, as a case describes its rows. */
function outboxRows(db, ids) {
  return db.prepare('SELECT topic, key, value, headers FROM outbox ORDER BY id').all().map((row) => {
    const { traceparent } = JSON.parse(row.headers);
    const described = { event: ids.indexOf(JSON.parse(row.value).id), topic: row.topic, key: row.key };
    return traceparent ? { ...described, trace_id: traceparent.split('-')[1] } : described;
  });
}

const publishing = conformanceCases('publishing');

test('when the outbox table is made, then it has the columns both libraries share', (t) => {
  const db = outboxDatabase(t);
  const columns = db.prepare('PRAGMA table_info(outbox)').all().map((column) => column.name);
  assert.deepEqual(columns, conformanceFile('publishing').outbox_columns);
});

for (const { name, emit, refused, traceparent, outbox } of publishing.filter((c) => c.outbox)) {
  test(`when a handler emits events and ${name}, then the outbox holds what the case says`, (t) => {
    const db = outboxDatabase(t);
    let ids = [];
    if (refused) {
      assert.throws(() => emitAll(db, emit, traceparent), (error) => {
        assert.ok(error instanceof InvalidEvent, `not an InvalidEvent: ${error}`);
        assert.ok(error.reason.startsWith(refused), `the reason is "${error.reason}"`);
        return true;
      });
    } else {
      ids = emitAll(db, emit, traceparent);
    }
    assert.deepEqual(outboxRows(db, ids), outbox);
  });
}

/** Takes what it is sent, but refuses one event (by id) the first time. */
class RecordingProducer {
  taken = [];

  constructor(refuseOnce) {
    this.refuseOnce = refuseOnce;
  }

  async send({ messages }) {
    const ids = messages.map((message) => JSON.parse(message.value).id);
    if (ids.includes(this.refuseOnce)) {
      this.refuseOnce = undefined;
      throw new Error('the broker refused it');
    }
    this.taken.push(...ids);
  }
}

for (const { name, emit, lease, refuse_once: refuseOnce, relay: passes } of publishing.filter((c) => c.relay)) {
  test(`when the outbox relay runs and ${name}, then it publishes what the case says`, async (t) => {
    const db = outboxDatabase(t);
    const ids = emitAll(db, emit);
    if (lease) {
      db.prepare('INSERT INTO outbox_lease (id, holder, expires_at) VALUES (1, ?, ?)')
        .run(lease.holder, lease.expires_at_ms);
    }
    const producer = new RecordingProducer(ids[refuseOnce]);
    let now = 0;
    const relay = createOutboxRelay({ db, producer, logger, clock: () => now });
    for (const step of passes) {
      now = step.at_ms;
      const before = producer.taken.length;
      const failed = await relay.publishPending().then(() => false, () => true);
      const taken = producer.taken.slice(before).map((id) => ids.indexOf(id));
      assert.deepEqual([taken, failed], [step.published, step.fails ?? false], JSON.stringify(step));
    }
  });
}

/** Starts a scripted registry for a case; stopped after the test. */
async function scripted(t, { exchanges }) {
  const registry = new ScriptedRegistry(exchanges);
  await registry.start();
  t.after(() => registry.stop());
  return registry;
}

function assertSentAsScripted(registry, { exchanges }) {
  const sent = registry.requests.slice(0, exchanges.length);
  assert.deepEqual(sent.map((r) => r.request), exchanges.map((e) => e.request));
  exchanges.forEach((exchange, index) => {
    for (const checked of ['body', 'authorization']) {
      if (checked in exchange) assert.deepEqual(sent[index][checked], exchange[checked], exchange.request);
    }
  });
}

/** Waits for the condition, but lets the assertions after it say what went wrong. */
const settle = (condition) => eventually(condition, { timeoutMs: 10000 }).catch(() => undefined);

const registryClient = conformanceCases('registry-client');

for (const testCase of registryClient.filter((c) => c.client === 'registration')) {
  test(`when the registry client keeps an instance registered and ${testCase.name}, then it sends what the script expects`, async (t) => {
    const registry = await scripted(t, testCase);
    const api = new RegistryApi({ baseUrl: registry.url, token: testCase.token, timeoutMs: 2000 });
    const { service, host, port, instance_id: instanceId } = testCase;
    const registration = createRegistration({ api, service, host, port, instanceId, logger });
    registration.start();
    await settle(() => registry.done);
    await registration.close();
    assertSentAsScripted(registry, testCase);
    assert.equal(registry.requests.at(-1).request, testCase.leaves);
    if (testCase.heartbeat_seconds) {
      const beats = registry.requests.filter((r) => r.request.endsWith('/heartbeat')).map((r) => r.at);
      assert.ok(beats[1] - beats[0] >= (testCase.heartbeat_seconds * 1000) / 2, 'heartbeats too close');
    }
  });
}

const ports = (discovery) => Object.fromEntries(
  Object.entries(discovery.services()).map(([name, found]) => [name, found.map((i) => i.port)]),
);

for (const testCase of registryClient.filter((c) => c.client === 'discovery')) {
  test(`when the registry client watches and ${testCase.name}, then it asks what the script expects`, async (t) => {
    const registry = await scripted(t, testCase);
    const discovery = createDiscovery({
      api: new RegistryApi({ baseUrl: registry.url, timeoutMs: 2000 }),
      waitSeconds: testCase.wait_seconds,
      rejoinGraceSeconds: testCase.rejoin_grace_seconds,
      logger,
    });
    discovery.start();
    await settle(() => registry.done && util.isDeepStrictEqual(ports(discovery), testCase.instances));
    await discovery.close();
    assertSentAsScripted(registry, testCase);
    assert.deepEqual(ports(discovery), testCase.instances);
  });
}

describe('tokens (contracts/conformance/tokens.json)', () => {
  let issuer;
  before(async () => {
    issuer = await startTestIssuer();
  });
  after(() => issuer.stop());

  const resolve = (value, now) => {
    if (value === '$issuer') return issuer.url;
    if (typeof value === 'string' && value.startsWith('$now')) {
      return now + Number(value.slice('$now'.length) || 0);
    }
    return value;
  };

  for (const { name, verifier: service, claims, signed_by: signedBy, expect } of conformanceCases('tokens')) {
    const outcome = expect === 'refused' ? 'refused' : `accepted as ${expect.name}`;
    test(`when a verifier gets ${name}, then it is ${outcome}`, async () => {
      const now = Math.floor(Date.now() / 1000);
      // Every claim as the case says; the issuer's defaults (iss, iat, exp) only where it says so.
      const payload = { iss: undefined, iat: undefined, exp: undefined };
      for (const [claim, value] of Object.entries(claims)) payload[claim] = resolve(value, now);
      const key = signedBy === 'stranger' ? await strangerKey() : undefined;
      const token = await issuer.sign(payload, { key });
      const verifier = createTokenVerifier({ issuer: issuer.url, service, logger });
      if (expect === 'refused') {
        await assert.rejects(verifier.verify(token), { status: 401 });
      } else {
        assert.deepEqual(await verifier.verify(token), { name: expect.name, isService: expect.is_service });
      }
    });
  }
});
