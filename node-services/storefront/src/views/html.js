/**
 * HTML from template literals, escaped by default: every value put into
 * `html\`...\`` is escaped unless it is itself `html` (a fragment built the
 * same way). No template engine: the pages are small, and a reader sees
 * the markup where it is made.
 */
const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export class Html {
  constructor(text) {
    this.text = text;
  }

  toString() {
    return this.text;
  }
}

export function escape(value) {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1];
  });
  return new Html(out);
}

function render(value) {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escape(value);
}

/** "python" → "Python", "node" → "Node.js": a language as people write it. */
export function languageName(language) {
  return { python: 'Python', node: 'Node.js' }[language] ?? language ?? 'unknown';
}
