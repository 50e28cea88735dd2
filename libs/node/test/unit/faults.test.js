/**
 * contracts/conformance/faults.json against this library and flagd's
 * in-process provider reading a real file; the Python library runs the same
 * cases (libs/python/tests/test_faults.py).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conformanceCases } from '../support/conformance.js';
import {
  activeFaults, faultSwitches, isOn, stopFaults, valueOf, watchFaults,
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
