/** The pages of ordering: checkout, my orders, one order with its live saga, notifications. */
import { formatMoney } from '../domain/money.js';
import { html, languageName } from './html.js';
import { noticeBox } from './shop.js';

export function checkoutMain({ lines, key, csrf, notice }) {
  const { currency } = lines[0];
  const total = lines.reduce((sum, line) => sum + line.line_cents, 0);
  return html`<h1>Checkout</h1>
    ${noticeBox(notice)}
    <ul class="summary">
      ${lines.map((line) => html`<li>${line.quantity} × ${line.name}: ${formatMoney(line.line_cents, line.currency)}</li>`)}
    </ul>
    <p class="total">Total: <strong>${formatMoney(total, currency)}</strong>
      (catalog's prices now; orders asks catalog again when it takes the order)</p>
    <form method="post" action="/checkout" id="checkout">
      <input type="hidden" name="_csrf" value="${csrf}">
      <input type="hidden" name="idempotency_key" value="${key}">
      <button type="submit">Place order</button>
    </form>
    <p class="hint">One key per checkout (<code>Idempotency-Key: ${key}</code>): pressing twice places one order.</p>`;
}

export function ordersMain({ orders }) {
  if (orders.length === 0) return html`<h1>My orders</h1><p>No orders yet. <a href="/">See the products</a>.</p>`;
  return html`<h1>My orders</h1>
    <table class="lines">
      <caption>Your orders, newest first</caption>
      <thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Status</th><th scope="col">Total</th></tr></thead>
      <tbody>
      ${orders.map((order) => html`<tr>
        <th scope="row"><a href="/orders/${order.id}">${order.id.slice(0, 8)}</a></th>
        <td><time datetime="${order.created_at}">${order.created_at.replace('T', ' ').slice(0, 19)}</time></td>
        <td><span class="status ${order.status.toLowerCase()}">${order.status}</span></td>
        <td>${formatMoney(order.total_cents, order.currency)}</td>
      </tr>`)}
      </tbody>
    </table>`;
}

/**
 * The order and its saga so far; order.js (a module) appends each further
 * step as its event arrives over server-sent events. `trace` is null when
 * pages link to no trace (TRACE_VIEW_URL unset), else the link to the
 * order's trace: its `href` is null until the first step is stored, and
 * order.js fills it in when a step brings it.
 */
export function orderMain({
  order, steps, languageOf, products, trace,
}) {
  return html`<h1>Order <code>${order.id.slice(0, 8)}</code></h1>
    <p class="order-status" aria-live="polite">Status:
      <strong id="status" class="status ${order.status.toLowerCase()}">${order.status}</strong></p>
    <p id="reason" class="reason"${order.reason ? '' : html` hidden`}>${reasonText(order.reason)}</p>
    <ul class="summary">
      ${order.items.map((item) => html`<li>${item.quantity} × ${products.get(item.sku)?.name ?? item.sku}</li>`)}
    </ul>
    <p class="total">Total: <strong>${formatMoney(order.total_cents, order.currency)}</strong></p>
    <section aria-labelledby="saga-title">
      <h2 id="saga-title">The saga, as it happens</h2>
      <p class="hint">Each step appears when its event is published on Kafka: no reload, no polling.
        <span id="live" class="live" role="status">connecting…</span></p>
      ${trace ? traceLink(trace.href) : ''}
      <ol id="timeline" class="timeline" data-order-id="${order.id}" data-placed-at="${order.created_at}">
        ${steps.map((step) => stepItem(step, order.created_at, languageOf))}
      </ol>
    </section>`;
}

function traceLink(href) {
  return html`<p id="trace" class="trace"${href ? '' : html` hidden`}>
        <a id="trace-link"${href ? html` href="${href}"` : ''} target="_blank" rel="noopener">See this order's trace</a>
        (opens in a new tab): every service's work on this order, in one trace.</p>`;
}

function stepItem(step, placedAt, languageOf) {
  const elapsed = Math.max(0, Date.parse(step.at) - Date.parse(placedAt));
  return html`<li data-id="${step.id}" data-type="${step.type}" data-at="${step.at}">
      <span class="step">${step.label}</span>
      <span class="by">${step.service} (${languageName(languageOf(step.service))})</span>
      <span class="when">+${elapsed} ms</span>
      ${step.reason ? html`<span class="why">${step.reason}</span>` : ''}
    </li>`;
}

/** A cancellation reason as a sentence. */
export function reasonText(reason) {
  if (!reason) return '';
  return `Why: ${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`;
}

export function notificationsMain({ notifications }) {
  return html`<h1>Notifications</h1>
    <p class="lead">What notifications (Node.js) told you, newest first.</p>
    ${notifications.length === 0 ? html`<p>Nothing yet.</p>` : html`<ul class="notifications">
      ${notifications.map((note) => html`<li>
        <time datetime="${note.created_at}">${note.created_at.replace('T', ' ').slice(0, 19)}</time>
        <a href="/orders/${note.order_id}">${note.message}</a>
      </li>`)}
    </ul>`}`;
}

export { noticeBox };
