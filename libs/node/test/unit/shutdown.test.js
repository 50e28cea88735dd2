import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { eventually } from '../support/eventually.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/stopping-process.js', import.meta.url));

// Starts the fixture and resolves once it has logged 'ready'.
async function startProcess(mode) {
  const child = spawn(process.execPath, [FIXTURE, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages = [];
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    const lines = (buffered + chunk).split('\n');
    buffered = lines.pop();
    messages.push(...lines.map((line) => JSON.parse(line).message));
  });
  const exited = once(child, 'exit').then(([code]) => code);
  await eventually(() => messages.includes('ready'), { message: 'the process is ready' });
  return { child, messages, exited };
}

test('when SIGTERM arrives, then the handler runs once and the process exits 0', async () => {
  const { child, messages, exited } = await startProcess('quick');
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(messages.filter((message) => message === 'handler ran').length, 1);
});

test('when a second signal arrives while stopping, then it is logged and ignored', async () => {
  const { child, messages, exited } = await startProcess('slow');
  child.kill('SIGINT');
  await eventually(() => messages.includes('stopping'));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(messages.includes('already stopping; signal ignored'), messages.join(' | '));
  assert.equal(messages.filter((message) => message === 'handler ran').length, 1);
});

test('when the handler outlasts the timeout, then the process exits 1', async () => {
  const { child, messages, exited } = await startProcess('hang');
  child.kill('SIGTERM');
  assert.equal(await exited, 1);
  assert.ok(messages.includes('shutdown took too long'));
});

test('when the handler throws, then the process exits 1', async () => {
  const { child, exited } = await startProcess('fail');
  child.kill('SIGTERM');
  assert.equal(await exited, 1);
});
