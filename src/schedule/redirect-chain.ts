import { FetchError, redactUrl } from '../errors.js';
import type { HttpResponse } from '../fetch/client.js';
import { nextHop, redirectMethod, withoutBodyHeaders } from '../fetch/redirects.js';
import type { Method } from '../source/requests.js';

/** What one hop sends: a redirect may change all three (fetch/redirects.ts). */
export interface HopRequest {
  method: Method;
  headers: Record<string, string>;
  /** Buffered, so that a 307/308 can send it again; null for none. */
  body: Uint8Array | null;
}

/** Where a redirect chain ended. */
export interface ChainEnd {
  /** The last response, which is not a redirect; or why the chain stopped (with the status that carried it). */
  outcome: HttpResponse | FetchError;
  /** The URL of the last hop requested (or refused by `hop`). */
  url: URL;
  /** Redirects followed. */
  redirects: number;
  /**
   * Set when `admitHop` refused the next hop (a crawl's URL already requested): the URL it would have gone to;
   * `outcome` is then the redirect response.
   */
  duplicateOf?: string;
}

/**
 * Follows a chain of redirects one hop at a time (see fetch/redirects.ts for why not inside undici): `hop` makes
 * the request(s) for one URL — for a page its robots check, retries and host gate; for robots.txt one attempt —
 * and a redirect it returns is followed to the next URL, its credentials dropped across origins. A Location that
 * is not a URL or not http(s), a loop, and a chain longer than `maxRedirects` end the chain with a FetchError that
 * carries the redirect's status. The next hop's method and body follow the Fetch standard (`redirectMethod`): a
 * POST after 301/302, and anything but GET/HEAD after 303, becomes a GET without its body and its body's headers;
 * 307/308 send the same method and body again. The one redirect loop for pages and robots.txt alike.
 */
export async function followRedirects(
  start: URL,
  request: HopRequest,
  maxRedirects: number,
  hop: (url: URL, request: HopRequest) => Promise<HttpResponse | FetchError>,
  admitHop: ((next: URL) => boolean | Promise<boolean>) | null = null,
): Promise<ChainEnd> {
  let url = start;
  let redirects = 0;
  /** URLs of this chain so far, to name a loop as one (kept only once a chain starts). */
  let chain: Set<string> | null = null;
  for (;;) {
    const outcome = await hop(url, request);
    if (outcome instanceof FetchError || outcome.location === null) return { outcome, url, redirects };
    const status = outcome.status;
    const next = nextHop(url, outcome.location, request.headers);
    if (next instanceof FetchError) return { outcome: new FetchError(next.code, next.message, { status }), url, redirects };
    chain ??= new Set([url.href]);
    if (chain.has(next.url.href)) {
      const message = `redirect loop: ${redactUrl(next.url.href)} again after ${redirects + 1} redirects`;
      return { outcome: new FetchError('TOO_MANY_REDIRECTS', message, { status }), url, redirects };
    }
    if (redirects >= maxRedirects) {
      const message = `still redirecting after ${redirects} redirects (maxRedirects is ${maxRedirects})`;
      return { outcome: new FetchError('TOO_MANY_REDIRECTS', message, { status }), url, redirects };
    }
    if (admitHop !== null && !(await admitHop(next.url))) return { outcome, url, redirects, duplicateOf: next.url.href };
    chain.add(next.url.href);
    redirects++;
    url = next.url;
    const { method } = redirectMethod(status, request.method, request.body !== null);
    // A method changed to GET leaves its body behind, and the headers that described it (Fetch, step 12).
    request = method === request.method ? { ...request, headers: next.headers } : { method, headers: withoutBodyHeaders(next.headers), body: null };
  }
}
