/**
 * The frame of every page: a skip link, the site's navigation (with who is
 * signed in and a log-out form), the page's main content, and its scripts
 * (JavaScript modules from /assets; the page works without them, they only
 * add the live parts).
 */
import { html } from './html.js';

/**
 * @param {object} page
 * @param {string} page.title
 * @param {{user: object|null, csrf: string, cartCount: number, path: string}} page.chrome
 * @param {import('./html.js').Html} page.main
 * @param {string[]} [page.scripts] module paths under /assets
 */
export function layout({ title, chrome, main, scripts = [] }) {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · polyshop</title>
  <link rel="stylesheet" href="/assets/app.css">
  <link rel="icon" href="data:,">
  ${scripts.map((src) => html`<script type="module" src="/assets/${src}"></script>`)}
</head>
<body>
  <a class="skip" href="#main">Skip to content</a>
  <header class="site">
    <a class="brand" href="/">polyshop</a>
    <nav aria-label="Main">
      <ul>
        ${navLink('/', 'Products', chrome.path)}
        ${navLink('/cart', `Cart (${chrome.cartCount})`, chrome.path)}
        ${chrome.user ? navLink('/orders', 'My orders', chrome.path) : ''}
        ${chrome.user ? navLink('/notifications', 'Notifications', chrome.path) : ''}
        ${navLink('/system', 'System view', chrome.path)}
      </ul>
    </nav>
    ${account(chrome)}
  </header>
  <main id="main" tabindex="-1">
    ${main}
  </main>
  <footer class="site">
    <p>polyshop: a shop built to show the patterns of microservices.
      This page comes from the storefront (Node.js), through the gateway (Python).</p>
  </footer>
</body>
</html>`;
}

function navLink(href, label, path) {
  const current = href === '/' ? path === '/' : path.startsWith(href);
  return html`<li><a href="${href}"${current ? html` aria-current="page"` : ''}>${label}</a></li>`;
}

function account({ user, csrf }) {
  if (!user) return html`<p class="account"><a href="/login">Log in</a></p>`;
  return html`<form class="account" method="post" action="/logout">
      <span>Signed in as <strong>${user.name}</strong></span>
      <input type="hidden" name="_csrf" value="${csrf}">
      <button type="submit">Log out</button>
    </form>`;
}

/** An error as a page: what went wrong, and a way on. */
export function errorPage({ status, title, detail, chrome }) {
  const main = html`<h1>${title}</h1>
    <p>${detail ?? ''}</p>
    <p class="status">Error ${status}. <a href="/">Back to the products</a></p>`;
  return layout({ title, chrome, main });
}
