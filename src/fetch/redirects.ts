import { FetchError, redactUrl } from '../errors.js';

/**
 * Redirects are followed one hop at a time by the caller rather than inside undici (its redirect interceptor
 * follows a whole chain within one dispatch): each hop must pass the politeness of its own host — robots.txt,
 * the per-host limit and pacing — and gets its own deadline. This module is the rule book for one hop, written
 * from the Fetch standard's "HTTP-redirect fetch" and RFC 9110 §15.4 for the two methods volley sends.
 */

/** The redirect statuses of the Fetch standard; 300 and 304 are answers, not redirects (RFC 9110 §15.4). */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * Headers that must not follow a hop to another origin: Fetch drops Authorization; cookies and proxy credentials
 * are dropped as undici's own redirect handler does, since a user's `-H Cookie:` was meant for the first site.
 */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

export interface Hop {
  url: URL;
  headers: Record<string, string>;
}

/**
 * Where a redirect response leads: the Location resolved against the URL that answered (WHATWG URL parsing),
 * which must be http(s); credentials are dropped when the origin changes. GET and HEAD keep their method on every
 * redirect status (a 303 turns only other methods into GET), so the method does not change here.
 */
export function nextHop(current: URL, location: string, headers: Record<string, string>): Hop | FetchError {
  let url: URL;
  try {
    url = new URL(location, current);
  } catch {
    return new FetchError('INVALID_URL', `redirected to an invalid Location: ${JSON.stringify(redactUrl(location))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return new FetchError('UNSUPPORTED_SCHEME', `redirected to a URL that is not http or https: ${redactUrl(url.href)}`);
  }
  // The fragment names a place in the page; it is never sent, and volley's URLs carry none.
  url.hash = '';
  if (url.origin === current.origin) return { url, headers };
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) kept[name] = value;
  return { url, headers: kept };
}
