import { redactUrl } from './errors.js';

/**
 * A bad value as an error message shows it (p-queue's style): `` `value` (type) ``, JSON for anything but a
 * string. `limit` cuts long values (a request line can be megabytes); credentials in URLs are always stripped.
 */
export function describeValue(value: unknown, limit = Infinity): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  const cut = text.length > limit ? `${text.slice(0, limit)}…` : text;
  return `\`${redactUrl(cut)}\` (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
}
