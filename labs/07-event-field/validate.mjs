/**
 * Validates event files against a contracts folder, as the Node.js
 * services read every record (libs/node/src/events.js):
 *
 *   node labs/07-event-field/validate.mjs CONTRACTS_FOLDER EVENT.json...
 *
 * One line per file: `FILE: valid`, or `FILE: ` and the reason a consumer
 * would dead-letter the event with. Exits 1 when a file is not valid, 2
 * when the contracts cannot be read.
 */
import { readFileSync } from 'node:fs';
import { InvalidEvent, loadContracts } from '../../libs/node/src/events.js';

const [folder, ...files] = process.argv.slice(2);
if (!folder || files.length === 0) {
  console.error('usage: node labs/07-event-field/validate.mjs CONTRACTS_FOLDER EVENT.json...');
  process.exit(2);
}
let contracts;
try {
  contracts = loadContracts(folder);
} catch (error) {
  // A schema that is not JSON, or not JSON Schema: what a service says when it starts.
  console.error(`${folder}: cannot read the contracts: ${error.message}`);
  process.exit(2);
}
let invalid = 0;
for (const file of files) {
  try {
    contracts.parse(readFileSync(file));
    console.log(`${file}: valid`);
  } catch (error) {
    if (!(error instanceof InvalidEvent)) throw error;
    invalid += 1;
    console.log(`${file}: ${error.reason}`);
  }
}
process.exitCode = invalid > 0 ? 1 : 0;
