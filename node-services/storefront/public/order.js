// The order page's saga, live: each step arrives as a server-sent event
// the moment the storefront reads its event from Kafka. EventSource
// reconnects by itself after a dropped connection; after a refused one
// (the storefront restarting, say) it gives up, so this tries again, a
// little later each time. A step may bring the link to the order's trace
// (when the storefront links to a trace UI): the page shows it then.
import { languageName, reasonText, stepItem } from './steps.js';

const timeline = document.getElementById('timeline');
const live = document.getElementById('live');
const status = document.getElementById('status');
const reason = document.getElementById('reason');
const traceLink = document.getElementById('trace-link');
const orderId = timeline.dataset.orderId;
const placedAt = Date.parse(timeline.dataset.placedAt);
const seen = new Set([...timeline.children].map((item) => item.dataset.id));
const FINAL = { 'order.confirmed': 'CONFIRMED', 'order.cancelled': 'CANCELLED' };

function showTrace(url) {
  if (!traceLink || !url || traceLink.href) return;
  traceLink.href = url;
  traceLink.closest('p').hidden = false;
}

function add(step) {
  showTrace(step.trace_url);
  if (seen.has(step.id)) return;
  seen.add(step.id);
  const item = stepItem(step, {
    by: `${step.service} (${languageName(step.language)})`,
    when: `+${Math.max(0, Date.parse(step.at) - placedAt)} ms`,
  });
  const later = [...timeline.children].find((other) => other.dataset.at > step.at);
  timeline.insertBefore(item, later ?? null);
  const final = FINAL[step.type];
  if (final) {
    status.textContent = final;
    status.className = `status ${final.toLowerCase()}`;
    if (step.reason) {
      reason.textContent = reasonText(step.reason);
      reason.hidden = false;
    }
  }
}

function connect(delayMs) {
  const source = new EventSource(`/orders/${encodeURIComponent(orderId)}/events`);
  source.addEventListener('open', () => {
    live.textContent = 'live';
    delayMs = 1000;
  });
  source.addEventListener('step', (message) => add(JSON.parse(message.data)));
  source.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(() => connect(Math.min(delayMs * 2, 15000)), delayMs);
    }
  });
}

connect(1000);
