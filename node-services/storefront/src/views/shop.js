/** The pages of shopping: products, one product, the cart, logging in. */
import { formatMoney } from '../domain/money.js';
import { html } from './html.js';

export function productsMain({ products, stock, csrf }) {
  return html`<h1>Products</h1>
    <p class="lead">Prices come from catalog (Python), stock from inventory (Node.js), read now.</p>
    <ul class="products">
      ${products.map((product) => html`<li class="product">
        <h2><a href="/products/${encodeURIComponent(product.sku)}">${product.name}</a></h2>
        <p class="price">${formatMoney(product.price_cents, product.currency)}</p>
        ${stockLine(stock.get(product.sku))}
        ${addForm(product, csrf)}
      </li>`)}
    </ul>`;
}

export function productMain({ product, stock, csrf }) {
  return html`<p><a href="/">All products</a></p>
    <h1>${product.name}</h1>
    <dl class="facts">
      <dt>Price</dt><dd class="price">${formatMoney(product.price_cents, product.currency)}</dd>
      <dt>Stock</dt><dd>${stockLine(stock)}</dd>
      <dt>SKU</dt><dd><code>${product.sku}</code></dd>
    </dl>
    ${addForm(product, csrf)}`;
}

function stockLine(stock) {
  if (!stock) return html`<p class="stock">Stock unknown right now</p>`;
  if (stock.available <= 0) return html`<p class="stock out">Out of stock</p>`;
  return html`<p class="stock"><span class="available">${stock.available}</span> in stock</p>`;
}

function addForm(product, csrf) {
  const field = `quantity-${product.sku}`;
  return html`<form method="post" action="/cart" class="add">
      <input type="hidden" name="_csrf" value="${csrf}">
      <input type="hidden" name="sku" value="${product.sku}">
      <label for="${field}">Quantity</label>
      <input id="${field}" name="quantity" type="number" inputmode="numeric" min="1" max="100" value="1" required>
      <button type="submit">Add <span class="visually-hidden">${product.name} </span>to cart</button>
    </form>`;
}

export function cartMain({ lines, csrf, notice }) {
  if (lines.length === 0) {
    return html`<h1>Your cart</h1>${noticeBox(notice)}<p>Your cart is empty. <a href="/">See the products</a>.</p>`;
  }
  const { currency } = lines[0];
  const total = lines.reduce((sum, line) => sum + line.line_cents, 0);
  return html`<h1>Your cart</h1>
    ${noticeBox(notice)}
    <table class="lines">
      <caption>Products in your cart</caption>
      <thead><tr><th scope="col">Product</th><th scope="col">Quantity</th><th scope="col">Price</th></tr></thead>
      <tbody>
      ${lines.map((line) => html`<tr>
        <th scope="row">${line.name}</th>
        <td><form method="post" action="/cart/update" class="inline">
          <input type="hidden" name="_csrf" value="${csrf}">
          <input type="hidden" name="sku" value="${line.sku}">
          <label class="visually-hidden" for="q-${line.sku}">Quantity of ${line.name}</label>
          <input id="q-${line.sku}" name="quantity" type="number" min="0" max="100" value="${line.quantity}">
          <button type="submit">Update</button>
        </form></td>
        <td>${formatMoney(line.line_cents, line.currency)}</td>
      </tr>`)}
      </tbody>
      <tfoot><tr><th scope="row" colspan="2">Total</th><td>${formatMoney(total, currency)}</td></tr></tfoot>
    </table>
    <p><a class="button" href="/checkout">Go to checkout</a></p>`;
}

export function noticeBox(notice) {
  return notice ? html`<p class="notice" role="status">${notice}</p>` : '';
}

export function loginMain({ csrf, next, error, notice, username = '' }) {
  return html`<h1>Log in</h1>
    ${noticeBox(notice)}
    <form method="post" action="/login" class="stacked" novalidate>
      <input type="hidden" name="_csrf" value="${csrf}">
      <input type="hidden" name="next" value="${next}">
      ${error ? html`<p class="error" id="login-error" role="alert">${error}</p>` : ''}
      <label for="username">User name</label>
      <input id="username" name="username" autocomplete="username" required value="${username}"
        ${error ? html`aria-describedby="login-error"` : ''}>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">Log in</button>
    </form>
    <p class="hint">Demo users: <code>alice</code> / <code>wonderland</code> and <code>bob</code> / <code>builder</code>.</p>`;
}
