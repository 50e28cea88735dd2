/**
 * The system view's page: headings and empty regions that system.js fills
 * from the storefront's event stream. Nothing personal is shown here (no
 * user names, no amounts): a workshop can put it on a projector.
 */
import { html } from './html.js';

export function systemMain() {
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
    </section>`;
}
