/**
 * The system view's page: headings and empty regions that system.js fills
 * from the storefront's event stream. Nothing personal is shown here (no
 * user names, no amounts): a workshop can put it on a projector.
 *
 * Under the dead letters, the operator's part: a form to sign in with the
 * operator token, then a "Redrive" form that system.js puts next to each
 * dead letter (from the template here, so only an operator's page has it)
 * and the result of the last redrive.
 */
import { html } from './html.js';

/**
 * @param {{signedIn: boolean, csrf: string, notice?: {text: string, failed: boolean,
 *   again?: string}, tokenError?: string}} operator
 */
export function systemMain(operator) {
  return html`<h1>System view</h1>
    <p class="lead">The shop from inside, live: what the registry knows, what the gateway routes,
      and what travels over Kafka. <span id="live" class="live" role="status">connecting…</span></p>
    <section aria-labelledby="registry-title">
      <h2 id="registry-title">Registry: every registered instance</h2>
      <table class="lines" id="instances">
        <caption>Instances and their leases</caption>
        <thead><tr><th scope="col">Service</th><th scope="col">Language</th><th scope="col">Address</th>
          <th scope="col">Age</th><th scope="col">Lease left</th><th scope="col">Last heartbeat</th><th scope="col">State</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section aria-labelledby="gateway-title">
      <h2 id="gateway-title">Gateway: routes and upstream instances</h2>
      <table class="lines" id="routes">
        <caption>Requests per route (last 10 s)</caption>
        <thead><tr><th scope="col">Route</th><th scope="col">Service</th><th scope="col">Requests/s</th>
          <th scope="col">Errors/s</th><th scope="col">Requests</th><th scope="col">Errors</th></tr></thead>
        <tbody></tbody>
      </table>
      <table class="lines" id="upstreams">
        <caption>Instances the gateway routes to</caption>
        <thead><tr><th scope="col">Service</th><th scope="col">Instance</th><th scope="col">Breaker</th>
          <th scope="col">Ejections</th><th scope="col">In flight</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section aria-labelledby="kafka-title">
      <h2 id="kafka-title">Kafka: the saga, lane by lane</h2>
      <div id="lanes" class="lanes"></div>
      <table class="lines" id="groups">
        <caption>Consumer groups and their lag</caption>
        <thead><tr><th scope="col">Group</th><th scope="col">State</th><th scope="col">Lag (records)</th></tr></thead>
        <tbody></tbody>
      </table>
      <h3>Dead-letter topics</h3>
      <div id="dead-letters"></div>
      ${operatorPart(operator)}
    </section>`;
}

function operatorPart({ signedIn, csrf, notice, tokenError }) {
  const csrfField = html`<input type="hidden" name="_csrf" value="${csrf}">`;
  if (!signedIn) {
    return html`<section id="operator" aria-labelledby="operator-title" tabindex="-1">
      <h3 id="operator-title">Operator</h3>
      <form method="post" action="/system/operator" class="inline" novalidate>
        ${csrfField}
        ${tokenError ? html`<p class="error" id="operator-token-error" role="alert">${tokenError}</p>` : ''}
        <label for="operator-token">Operator token</label>
        <input id="operator-token" name="token" type="password" autocomplete="off" required
          ${tokenError ? html`aria-describedby="operator-token-error" aria-invalid="true" autofocus` : ''}>
        <button type="submit">Sign in to redrive</button>
      </form>
    </section>`;
  }
  return html`<section id="operator" aria-labelledby="operator-title" tabindex="-1">
      <h3 id="operator-title">Operator</h3>
      ${notice ? resultOf(notice, csrfField) : ''}
      <form method="post" action="/system/operator/sign-out" class="inline">
        ${csrfField}
        <span>Signed in as operator: each dead letter has a Redrive button.</span>
        <button type="submit">Stop redriving</button>
      </form>
      <template id="redrive-form">
        <form method="post" action="/system/dead-letters/redrive" class="inline redrive">
          ${csrfField}
          <input type="hidden" name="letter">
          <button type="submit">Redrive</button>
        </form>
      </template>
    </section>`;
}

/** The last redrive's outcome; one refused as done already can be sent again from here. */
function resultOf({ text, failed, again }, csrfField) {
  return html`<div class="${failed ? 'notice error' : 'notice'}" role="status" id="redrive-result"
      tabindex="-1">
      <p>${text}</p>
      ${again ? html`<form method="post" action="/system/dead-letters/redrive" class="inline">
        ${csrfField}
        <input type="hidden" name="letter" value="${again}">
        <input type="hidden" name="again" value="true">
        <button type="submit">Redrive ${again} again</button>
      </form>` : ''}
    </div>`;
}
