/** The case files of contracts/conformance/, which both libraries run. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findContractsDir } from '../../src/events.js';

/** @returns {object[]} the cases of contracts/conformance/NAME.json */
export function conformanceCases(name) {
  const file = join(findContractsDir(), 'conformance', `${name}.json`);
  return JSON.parse(readFileSync(file, 'utf8')).cases;
}
