// What the order page and the system view share: a saga step as a list item.

export function languageName(language) {
  return { python: 'Python', node: 'Node.js' }[language] ?? language ?? 'unknown';
}

export function reasonText(reason) {
  return `Why: ${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`;
}

/** <li> with the step's label and the given details; nothing is parsed as HTML. */
export function stepItem(step, details) {
  const item = document.createElement('li');
  item.dataset.id = step.id;
  item.dataset.type = step.type;
  item.dataset.at = step.at;
  const parts = { step: step.label, ...details };
  if (step.reason) parts.why = step.reason;
  for (const [name, text] of Object.entries(parts)) {
    const span = document.createElement('span');
    span.className = name;
    span.textContent = text;
    item.append(span);
  }
  return item;
}
