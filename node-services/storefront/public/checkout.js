// One press places the order: the button is disabled while the form is on
// its way. The server does not rely on this: a second press that gets
// through carries the same Idempotency-Key and finds the same order.
const form = document.getElementById('checkout');
form?.addEventListener('submit', () => {
  const button = form.querySelector('button[type="submit"]');
  // After the submission has started, or the form would not be sent.
  setTimeout(() => {
    button.disabled = true;
    button.textContent = 'Placing your order…';
  });
});
