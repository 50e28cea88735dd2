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
export function systemMain(operator, faults = null) {
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
    </section>
    ${faultsPart(faults, operator)}`;
}

/**
 * The fault switches (docs/faults.md): where each is on, and for an
 * operator a form per switch to turn it on (everywhere or in one piece) or off.
 */
function faultsPart(faults, { signedIn, csrf }) {
  const heading = html`<h2 id="faults-title">Fault switches</h2>`;
  if (!faults) {
    return html`<section id="faults" aria-labelledby="faults-title" tabindex="-1">${heading}
      <p>This shop was started without a flag file (<code>FAULTS_FILE</code>): no switch to turn.</p>
    </section>`;
  }
  const rows = faults.states.map((each) => html`<tr>
      <th scope="row"><code>${each.name}</code></th>
      <td>${each.summary}</td>
      <td class="fault-state">${stateOf(each.on)}</td>
      ${signedIn ? html`<td>${switchForm(each, csrf)}</td>` : ''}
    </tr>`);
  return html`<section id="faults" aria-labelledby="faults-title" tabindex="-1">${heading}
      ${faults.notice ? html`<div class="notice" role="status"><p>${faults.notice}</p></div>` : ''}
      <p>${signedIn ? 'Each change reaches the Python pieces within a second, the Node.js ones within five.'
    : html`Sign in as operator above to turn them on and off; <code>make fault</code> does the same.`}</p>
      <table class="lines" id="fault-switches">
        <caption>What each switch breaks, and where it is on</caption>
        <thead><tr><th scope="col">Switch</th><th scope="col">What it does</th><th scope="col">On</th>
          ${signedIn ? html`<th scope="col">Turn</th>` : ''}</tr></thead>
        <tbody>${rows}</tbody>
      </table>
    </section>`;
}

function stateOf(on) {
  if (on === null) return 'off';
  return on === 'everywhere' ? 'ON everywhere' : `ON in ${on.join(', ')}`;
}

function switchForm({ name, pieces }, csrf) {
  const id = `fault-${name}-where`;
  return html`<form method="post" action="/system/faults" class="inline fault-switch">
      <input type="hidden" name="_csrf" value="${csrf}">
      <input type="hidden" name="name" value="${name}">
      <label for="${id}">where</label>
      <select id="${id}" name="service">
        <option value="">everywhere</option>
        ${pieces.map((piece) => html`<option value="${piece}">${piece}</option>`)}
      </select>
      <button type="submit" name="on" value="true">Turn on</button>
      <button type="submit" name="on" value="false">Turn off</button>
    </form>`;
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
