import { FetchError, redactUrl } from '../errors.js';
import { refererFor } from './referer.js';
import type { Method } from '../source/requests.js';

/**
 * Redirects are followed one hop at a time by the caller rather than inside undici (its redirect interceptor
 * follows a whole chain within one dispatch): each hop must pass the politeness of its own host — robots.txt,
 * the per-host limit and pacing — and gets its own deadline. This module is the rule book for one hop, written
 * from the Fetch standard's "HTTP-redirect fetch" (https://fetch.spec.whatwg.org/#http-redirect-fetch) and
 * RFC 9110 §15.4: where the hop goes and with which headers (`nextHop`), and with which method and body
 * (`redirectMethod`, `withoutBodyHeaders`).
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
 * which must be http(s); credentials are dropped when the origin changes. The method and body are
 * `redirectMethod`'s to decide; GET and HEAD keep theirs on every redirect status.
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
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (CREDENTIAL_HEADERS.has(lower)) continue;
    // Fetch computes the Referer again for each hop (fetch/referer.ts): the origin only, or none from https to http.
    if (lower === 'referer') {
      const referer = refererFor(value, url);
      if (referer !== null) kept[name] = referer;
      continue;
    }
    kept[name] = value;
  }
  return { url, headers: kept };
}

/**
 * The request-body-header names of the Fetch standard, and Content-Length: they describe a body, so they go
 * when the body does.
 */
export const BODY_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']);

export interface RedirectMethod {
  /** The method of the next hop. */
  method: Method;
  /** True when the body is sent again; false when there is none or it is dropped (then drop BODY_HEADERS too). */
  keepBody: boolean;
}

/**
 * The method and body of the request that follows a redirect, per the Fetch standard's HTTP-redirect fetch
 * (step 12) and RFC 9110 §15.4:
 * - 301 and 302 turn a POST into a GET and drop its body (what every browser does, and RFC 9110 allows); any
 *   other method is kept, with its body;
 * - 303 See Other turns any method but GET and HEAD into a GET, without a body;
 * - 307 and 308 keep the method and send the body again (why bodies are buffered, never streamed).
 * Any other status is not a redirect: the method and body stay as they are.
 */
export function redirectMethod(status: number, method: Method, hasBody: boolean): RedirectMethod {
  const toGet = ((status === 301 || status === 302) && method === 'POST') || (status === 303 && method !== 'GET' && method !== 'HEAD');
  return toGet ? { method: 'GET', keepBody: false } : { method, keepBody: hasBody };
}

/**
 * `headers` without the BODY_HEADERS (names compared case-insensitively), for a hop whose body was dropped.
 * Returns `headers` itself when it has none of them.
 */
export function withoutBodyHeaders(headers: Record<string, string>): Record<string, string> {
  let kept: Record<string, string> | null = null;
  for (const name of Object.keys(headers)) {
    if (!BODY_HEADERS.has(name.toLowerCase())) continue;
    kept ??= { ...headers };
    delete kept[name];
  }
  return kept ?? headers;
}
