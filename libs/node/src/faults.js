/**
 * Fault switches: faults a teacher turns on and off while the shop runs.
 *
 * Each switch is an OpenFeature flag in one flagd flag file that every piece
 * watches (`FAULTS_FILE`; unset, every switch stays off), read by flagd's
 * in-process provider, as the OpenTelemetry demo does with flagd. The flags
 * are evaluated for this piece (`service`, `instance`) once each time the
 * file changes, not on every request: the hot paths only read a Map. The
 * provider looks at the file every 5 s (Node's fs.watchFile), the Python
 * one every half second.
 *
 * A switch that turns on or off is logged, and those on are listed in the
 * piece's /readyz. The same module in Python: polyshop_common/faults.py;
 * the switches: contracts/faults.json; their symptoms: docs/faults.md.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { findContractsDir } from './events.js';

export const SLOW = 'slow';
export const ERRORS = 'errors';
export const STOP_HEARTBEATS = 'stop-heartbeats';
export const PAUSE_CONSUMER = 'pause-consumer';
export const STOP_OUTBOX_RELAY = 'stop-outbox-relay';
export const DUPLICATE_EVENTS = 'duplicate-events';

const EVENTS = [ProviderEvents.Ready, ProviderEvents.ConfigurationChanged];
const SCHEMA = 'https://flagd.dev/schema/v0/flags.json';

let active = new Map();
const listeners = new Set();
let watching = null;

/** True while the switch is on for this piece. */
export function isOn(name) {
  return active.has(name);
}

/** The switch's value for this piece (its `on` value), or `fallback` while off. */
export function valueOf(name, fallback = undefined) {
  return active.has(name) ? active.get(name) : fallback;
}

/** The switches on for this piece, with their values. */
export function activeFaults() {
  return Object.fromEntries(active);
}

/** Calls `listener(activeFaults())` after each change; returns what removes it. */
export function onFaultsChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Turns a switch on (everywhere, or in `services` only) or off, by writing
 * the flag file as tools/src/polyshop_dev/faults.py does: the whole file at
 * once (a rename), so no piece reads half of it. The storefront's system
 * view uses it; `make fault` is the same in Python.
 */
export function setFault(path, name, { on, services = [] }, contractsDir = findContractsDir()) {
  const known = faultSwitches(contractsDir);
  if (!(name in known)) throw new Error(`no fault switch is called ${name}`);
  const wrong = services.filter((service) => !known[name].pieces.includes(service));
  if (wrong.length > 0) throw new Error(`${name} does nothing in ${wrong.join(', ')}`);
  const flags = { ...readFaultFlags(path), [name]: faultFlag(known[name], { on, services }) };
  const partial = `${path}.partial`;
  writeFileSync(partial, `${JSON.stringify({ $schema: SCHEMA, flags }, null, 2)}\n`);
  renameSync(partial, path);
}

/** Every switch with its summary, the pieces it acts in, and where it is on now. */
export function faultStates(path, contractsDir = findContractsDir()) {
  const flags = readFaultFlags(path);
  return Object.entries(faultSwitches(contractsDir)).map(([name, { summary, pieces }]) => ({
    name, summary, pieces, on: whereOn(flags[name] ?? {}),
  }));
}

/** One switch as a flagd flag: variants `on` and `off`, and who gets `on`. */
export function faultFlag({ on: onValue }, { on = false, services = [] } = {}) {
  const flag = {
    state: 'ENABLED',
    variants: { on: onValue, off: typeof onValue === 'boolean' ? false : 0 },
    defaultVariant: on && services.length === 0 ? 'on' : 'off',
  };
  if (on && services.length > 0) {
    flag.targeting = { if: [{ or: [{ in: [{ var: 'service' }, services] }] }, 'on', 'off'] };
  }
  return flag;
}

function readFaultFlags(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8')).flags ?? {};
  } catch (error) {
    if (error.code === 'ENOENT') return {};
    throw error;
  }
}

/** 'everywhere', the names a targeting rule lists, or null when off. */
function whereOn(flag) {
  if (flag.defaultVariant === 'on') return 'everywhere';
  const rules = flag.targeting?.if?.[0]?.or ?? [];
  const names = rules.flatMap((rule) => rule.in?.[1] ?? []);
  return names.length > 0 ? names : null;
}

/** contracts/faults.json's switches, by name. */
export function faultSwitches(contractsDir = findContractsDir()) {
  return JSON.parse(readFileSync(join(contractsDir, 'faults.json'), 'utf8')).switches;
}

/**
 * Follows the flag file (`path`, else FAULTS_FILE) as `service`; false if there is none.
 * `instance` is the address the piece registers (host:port), for a switch aimed at one.
 */
export async function watchFaults({
  service, instance = `${hostname()}:${process.pid}`, path = process.env.FAULTS_FILE, logger,
  contractsDir,
}) {
  if (!path) return false;
  if (watching) return true; // one process, one piece: already watching
  // Imported here: a piece without the file never loads the provider's gRPC parts.
  const { FlagdProvider } = await import('@openfeature/flagd-provider');
  const known = faultSwitches(contractsDir);
  const context = { service, instance };
  const client = OpenFeature.getClient();
  const evaluate = async () => update(await evaluateAll(client, known, context), logger);
  for (const event of EVENTS) OpenFeature.addHandler(event, evaluate);
  watching = evaluate;
  try {
    await OpenFeature.setProviderAndWait(
      new FlagdProvider({ resolverType: 'in-process', offlineFlagSourcePath: path }, logger),
    );
  } catch (error) {
    // As in Python: every switch off until the file can be read; the provider keeps looking.
    logger.warn({ err: error, file: path }, 'fault switches not readable yet: all off');
  }
  await evaluate();
  logger.info({ file: path }, 'watching the fault switches');
  return true;
}

/** Stops following the file; every switch is off again. */
export async function stopFaults() {
  if (!watching) return;
  for (const event of EVENTS) OpenFeature.removeHandler(event, watching);
  watching = null;
  await OpenFeature.close();
  update(new Map());
}

async function evaluateAll(client, known, context) {
  const found = new Map();
  for (const [name, { on }] of Object.entries(known)) {
    const value = typeof on === 'boolean'
      ? await client.getBooleanValue(name, false, context)
      : await client.getNumberValue(name, 0, context);
    if (value) found.set(name, value);
  }
  return found;
}

function update(now, logger) {
  const before = active;
  active = now;
  const changed = [...now].filter(([name, value]) => before.get(name) !== value);
  const ended = [...before.keys()].filter((name) => !now.has(name));
  for (const [name, value] of changed.sort()) {
    logger?.warn({ fault: name, value }, `FAULT SWITCH ON: ${name}`);
  }
  for (const name of ended.sort()) logger?.warn({ fault: name }, `fault switch off: ${name}`);
  if (changed.length > 0 || ended.length > 0) {
    for (const listener of listeners) listener(activeFaults());
  }
}
