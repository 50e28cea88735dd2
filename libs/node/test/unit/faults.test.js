/**
 * contracts/conformance/faults.json against this library and flagd's
 * in-process provider reading a real file; the Python library runs the same
 * cases (libs/python/tests/test_faults.py).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync, readFileSync, renameSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conformanceCases, conformanceFile } from '../support/conformance.js';
import {
  activeFaults, faultStates, faultSwitches, isOn, setFault, stopFaults, valueOf, watchFaults,
} from '../../src/faults.js';
import * as faults from '../../src/faults.js';
import { createLogger } from '../../src/logger.js';

const logger = createLogger({ service: 'faults-test', level: 'silent' });

function flagFile(flags) {
  const folder = mkdtempSync(join(tmpdir(), 'faults-'));
  const path = join(folder, 'flags.json');
  writeFileSync(join(folder, 'partial.json'), JSON.stringify({ flags }));
  renameSync(join(folder, 'partial.json'), path);
  return path;
}

describe('the fault switches of contracts/conformance/faults.json', () => {
  afterEach(() => stopFaults());

  for (const { name, flags, service, instance, on } of conformanceCases('faults')) {
    test(`when ${name}, then the piece finds on what the case says`, async () => {
      assert.equal(await watchFaults({ service, instance, path: flagFile(flags), logger }), true);
      assert.deepEqual(activeFaults(), on);
      for (const [switchName, value] of Object.entries(on)) {
        assert.equal(isOn(switchName), true);
        assert.equal(valueOf(switchName), value);
      }
    });
  }
});

test('when no file is named, then every switch stays off', async () => {
  assert.equal(await watchFaults({ service: 'inventory', path: undefined, logger }), false);
  assert.deepEqual(activeFaults(), {});
});

test('when the contract names a switch, then the library has a name for it', () => {
  const names = new Set(Object.values(faults).filter((value) => typeof value === 'string'));
  for (const name of Object.keys(faultSwitches())) {
    if (['decline-payments', 'malformed-price'].includes(name)) continue; // Python services only
    assert.ok(names.has(name), name);
  }
});

describe('writing the flag file, as the CLI does (conformance `writing`)', () => {
  for (const { name, switch: switchName, on, services, flag } of conformanceFile('faults').writing) {
    test(`when ${name}, then the flag written is the CLI's`, () => {
      const path = flagFile({});
      setFault(path, switchName, { on, services });
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).flags[switchName], flag);
    });
  }

  test('when switches are set, then their states say where each is on', () => {
    const path = flagFile({});
    setFault(path, 'slow', { on: true, services: ['catalog'] });
    setFault(path, 'decline-payments', { on: true });
    const states = Object.fromEntries(faultStates(path).map((each) => [each.name, each.on]));
    assert.deepEqual(states.slow, ['catalog']);
    assert.equal(states['decline-payments'], 'everywhere');
    assert.equal(states.errors, null);
  });

  test('when a switch is set where it does nothing, then nothing is written', () => {
    const path = flagFile({});
    assert.throws(() => setFault(path, 'malformed-price', { on: true, services: ['orders'] }),
      /malformed-price does nothing in orders/);
    assert.throws(() => setFault(path, 'sloow', { on: true }), /no fault switch is called sloow/);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).flags, {});
  });
});
