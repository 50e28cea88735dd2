/**
 * A service in a process of its own (fixtures/service-process.js, or
 * another fixture), against a registry of its own: both stop when the test
 * ends.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';
import { FakeRegistry } from './fake-registry.js';

// A process start-up on a busy machine (loading Express, kafkajs, ...) takes seconds.
export const START_MS = 30000;

/**
 * @param {import('node:test').TestContext} t
 * @param {Record<string, string|undefined>} [env] over the defaults (undefined unsets)
 * @param {{fixture?: string}} [options] a file of test/fixtures/
 * @returns {Promise<object>} `child`, `registry`; `lines()`, its JSON log lines so far;
 *   `events()`, what its stand-in workers noted, in the order they ran; `exited`,
 *   a promise of its exit code and stderr
 */
export async function startService(t, env = {}, { fixture = 'service-process.js' } = {}) {
  const registry = new FakeRegistry();
  await registry.start();
  const folder = mkdtempSync(join(tmpdir(), 'service-test-'));
  const eventsFile = join(folder, 'events');
  writeFileSync(eventsFile, '');
  const file = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
  const child = spawn(process.execPath, [file], {
    env: {
      ...process.env,
      PORT: '0',
      KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1',
      REGISTRY_URL: registry.url,
      REGISTRY_TOKEN: 'service-test-registry-token-0123456789',
      AUTH_ISSUER: 'http://127.0.0.1:1',
      POLYSHOP_MODE: 'production',
      EVENTS_FILE: eventsFile,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => { output.stdout += chunk; });
  child.stderr.on('data', (chunk) => { output.stderr += chunk; });
  const exited = once(child, 'close').then(([code]) => ({ code, stderr: output.stderr }));
  t.after(async () => {
    child.kill('SIGKILL');
    await registry.stop();
    rmSync(folder, { recursive: true, force: true });
  });
  // Whole lines only: the last one may be half written.
  const lines = () => output.stdout.split('\n').slice(0, -1).map((line) => JSON.parse(line));
  const events = () => readFileSync(eventsFile, 'utf8').split('\n').slice(0, -1);
  return { child, registry, lines, events, exited };
}

export function registered(lines) {
  return eventually(() => lines().some((line) => line.message === 'registered'), {
    timeoutMs: START_MS, message: 'the service registered',
  });
}
