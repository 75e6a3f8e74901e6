/** Response header fields as undici hands them over: lower-cased names, a repeated field as an array. */
export type HeaderFields = Record<string, string | string[] | undefined>;

/**
 * What volley can decode (content-encoding.ts), said so that servers compress (RFC 9110 §12.5.3: without it a
 * server may send anything, and most send identity). Browsers, Scrapy and aiohttp send the same. A user's own
 * Accept-Encoding header replaces it.
 */
export const ACCEPT_ENCODING = 'gzip, deflate, br';

/** A single-valued field: the first value of a repeated one, null when absent. */
export function header(headers: HeaderFields, name: string): string | null {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns ms from `now`, never negative,
 * or null when absent or unreadable (a garbled value is ignored, not obeyed).
 */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // RFC 9110 dates always name the weekday and GMT; Date.parse reads all three historic formats.
  if (!/GMT$/i.test(v)) return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
