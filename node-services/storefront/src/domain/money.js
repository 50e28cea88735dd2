/** Cents as people read them, in the order's currency: 1780 EUR → "€17.80". */
export function formatMoney(cents, currency) {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(cents / 100);
}
