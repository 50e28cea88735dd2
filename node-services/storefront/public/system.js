// The system view, live: a snapshot of registry, gateway and Kafka every
// second, and each saga step the moment its event is read, both over one
// server-sent event stream. Everything is written with textContent: what
// services report is shown, never run. On an operator's page (it has the
// redrive form's template) each dead letter gets a Redrive button. When the
// storefront links to a trace UI, each order's lane links to its trace.
import { languageName, stepItem } from './steps.js';

const LANES = ['orders', 'inventory', 'payments', 'notifications'];
const GONE_SHOWN_MS = 15000;
const live = document.getElementById('live');
const known = new Map(); // instance id → { instance, goneAt, why }
const redriveForm = document.getElementById('redrive-form');
let lanes = [];
let shownDeadLetters = '';

function cells(row, values) {
  for (const value of values) {
    const cell = document.createElement(row.children.length === 0 ? 'th' : 'td');
    if (cell.tagName === 'TH') cell.scope = 'row';
    cell.textContent = value;
    row.append(cell);
  }
  return row;
}

function fill(tableId, rows, empty) {
  const body = document.querySelector(`#${tableId} tbody`);
  const made = rows.map(({ values, className }) => {
    const row = cells(document.createElement('tr'), values);
    if (className) row.className = className;
    return row;
  });
  if (made.length === 0) made.push(cells(document.createElement('tr'), [empty]));
  body.replaceChildren(...made);
}

const seconds = (ms) => `${Math.max(0, ms / 1000).toFixed(1)} s`;

function showRegistry(registry, now) {
  if (registry.error) return fill('instances', [], `registry unavailable: ${registry.error}`);
  const listed = new Set(registry.instances.map((instance) => instance.instance_id));
  const evicted = new Set(registry.evictions.map((eviction) => eviction.instance_id));
  for (const instance of registry.instances) known.set(instance.instance_id, { instance });
  for (const [id, entry] of known) {
    if (listed.has(id)) continue;
    entry.goneAt ??= now;
    entry.why ??= evicted.has(id) ? 'left: lease ran out' : 'left: deregistered';
    if (now - entry.goneAt > GONE_SHOWN_MS) known.delete(id);
  }
  const rows = [...known.values()]
    .sort((a, b) => a.instance.service.localeCompare(b.instance.service))
    .map(({ instance, goneAt, why }) => ({
      className: goneAt ? 'gone' : '',
      values: [
        instance.service, languageName(instance.language), instance.address,
        seconds(now - Date.parse(instance.registered_at)),
        goneAt ? '—' : seconds(Date.parse(instance.lease_expires_at) - now),
        `${seconds(now - Date.parse(instance.last_heartbeat_at))} ago`,
        why ?? 'up',
      ],
    }));
  return fill('instances', rows, 'no instance registered');
}

function showGateway(gateway) {
  if (gateway.error) {
    fill('routes', [], `gateway unavailable: ${gateway.error}`);
    return fill('upstreams', [], 'gateway unavailable');
  }
  fill('routes', gateway.routes.map((route) => ({
    values: [route.prefix, route.service, route.requests_per_second, route.errors_per_second,
      route.requests, route.errors],
  })), 'no route');
  return fill('upstreams', gateway.instances.map((instance) => ({
    className: instance.breaker === 'closed' ? '' : 'gone',
    values: [instance.service, instance.instance_id, instance.breaker.replace('_', '-'),
      instance.ejections, instance.outstanding],
  })), 'no instance');
}

function showKafka(kafka) {
  const box = document.getElementById('dead-letters');
  if (kafka.error) {
    fill('groups', [], `Kafka unavailable: ${kafka.error}`);
    shownDeadLetters = '';
    return box.replaceChildren();
  }
  fill('groups', kafka.groups.map((group) => ({ values: [group.group, group.state, group.lag] })), 'no group');
  // Redrawn only when they change: a button that keeps being replaced loses the keyboard's focus.
  const latest = JSON.stringify(kafka.dead_letters);
  if (latest === shownDeadLetters) return undefined;
  shownDeadLetters = latest;
  const focused = document.activeElement?.closest('form.redrive')?.dataset.letter;
  box.replaceChildren(...kafka.dead_letters.map((topic) => {
    const section = document.createElement('section');
    section.className = 'dlq';
    section.dataset.topic = topic.topic;
    const heading = document.createElement('h4');
    heading.textContent = `${topic.topic}: ${topic.count} ${topic.count === 1 ? 'record' : 'records'}`;
    const list = document.createElement('ul');
    for (const entry of topic.latest) {
      const item = document.createElement('li');
      item.textContent = `${entry.at.slice(11, 19)} partition ${entry.partition} offset ${entry.offset}, by ${entry.source}: ${entry.reason}`;
      if (redriveForm) item.append(' ', redriveButton(`${topic.topic}/${entry.partition}/${entry.offset}`));
      list.append(item);
    }
    section.append(heading, list);
    return section;
  }));
  if (focused) box.querySelector(`form.redrive[data-letter="${CSS.escape(focused)}"] button`)?.focus();
  return undefined;
}

function redriveButton(id) {
  const form = redriveForm.content.firstElementChild.cloneNode(true);
  form.dataset.letter = id;
  form.elements.namedItem('letter').value = id;
  form.querySelector('button').setAttribute('aria-label', `Redrive ${id}`);
  return form;
}

function addStep(step) {
  let lane = lanes.find((entry) => entry.order_id === step.order_id);
  if (!lane) {
    lane = { order_id: step.order_id, steps: [] };
    lanes = [lane, ...lanes].slice(0, 8);
  }
  lane.trace_url ??= step.trace_url;
  if (!lane.steps.some((known) => known.id === step.id)) lane.steps.push(step);
}

// "trace", named "trace of order 0b6a7a52" for whoever cannot see which lane it is in.
function traceLink(lane) {
  const link = document.createElement('a');
  link.className = 'trace-link';
  link.href = lane.trace_url;
  link.target = '_blank';
  link.rel = 'noopener';
  const which = document.createElement('span');
  which.className = 'visually-hidden';
  which.textContent = ` of order ${lane.order_id.slice(0, 8)}`;
  link.append('trace', which);
  return link;
}

function showLanes() {
  const box = document.getElementById('lanes');
  box.replaceChildren(...lanes.map((lane) => {
    const figure = document.createElement('figure');
    figure.className = 'lane';
    figure.dataset.orderId = lane.order_id;
    const caption = document.createElement('figcaption');
    caption.textContent = `order ${lane.order_id.slice(0, 8)}`;
    if (lane.trace_url) caption.append(traceLink(lane));
    const start = Math.min(...lane.steps.map((step) => Date.parse(step.at)));
    const columns = LANES.map((service) => {
      const column = document.createElement('ol');
      column.className = 'swim';
      column.setAttribute('aria-label', service);
      const steps = lane.steps.filter((step) => step.service === service)
        .sort((a, b) => a.at.localeCompare(b.at));
      for (const step of steps) {
        column.append(stepItem(step, { when: `+${Date.parse(step.at) - start} ms` }));
      }
      return column;
    });
    figure.append(caption, ...columns);
    return figure;
  }));
}

function connect(delayMs) {
  const source = new EventSource('/system/events');
  source.addEventListener('open', () => {
    live.textContent = 'live';
    delayMs = 1000;
  });
  source.addEventListener('snapshot', (message) => {
    const snapshot = JSON.parse(message.data);
    const now = Date.parse(snapshot.generated_at);
    showRegistry(snapshot.registry, now);
    showGateway(snapshot.gateway);
    showKafka(snapshot.kafka);
    lanes = snapshot.lanes;
    showLanes();
  });
  source.addEventListener('step', (message) => {
    addStep(JSON.parse(message.data));
    showLanes();
  });
  source.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(() => connect(Math.min(delayMs * 2, 15000)), delayMs);
    }
  });
}

// A heading over the lanes' columns, once.
const header = document.createElement('div');
header.className = 'lane lane-header';
header.append(document.createElement('span'), ...LANES.map((service) => {
  const label = document.createElement('span');
  label.textContent = service;
  return label;
}));
document.getElementById('lanes').before(header);
connect(1000);
