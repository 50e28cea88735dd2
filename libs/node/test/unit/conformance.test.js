/**
 * The conformance cases of contracts/conformance/ that need no broker, run
 * against this library; the Python library runs the same files
 * (libs/python/tests/test_conformance.py), so both behave alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instancesPath } from '../../src/registry/api.js';
import { conformanceCases } from '../support/conformance.js';

for (const { service, instance_id: instanceId, path } of conformanceCases('registry-paths')) {
  test(`when the registry client names instance ${JSON.stringify(instanceId)} of ${JSON.stringify(service)}, then the path is ${path}`, () => {
    assert.equal(instancesPath(service, instanceId), path);
  });
}
