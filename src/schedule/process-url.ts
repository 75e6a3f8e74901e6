import { FetchError } from '../errors.js';
import { failedResult, toResultError, type FetchResult } from '../result.js';
import { mergeHeaders, type RequestItem } from '../source/requests.js';
import type { HttpResponse } from '../fetch/client.js';
import { header } from '../fetch/headers.js';
import { sleep } from '../sleep.js';
import { isHtml } from '../parse/content-type.js';
import type { StoredValidators } from '../options.js';
import type { Hold } from './byte-budget.js';
import { followRedirects, type HopRequest } from './redirect-chain.js';
import { attempt, cancelledBefore, type RequestSpec, type RunContext } from './request.js';
import { backoffMs, isRetryableError, isRetryableStatus } from './retry-policy.js';
import { mayRetry } from './retry-safety.js';

export type { RunContext } from './request.js';

/** The conditional request fields for what an earlier run stored (RFC 9110 §13.1.2, §13.1.3). */
function conditionalHeaders(stored: StoredValidators): Record<string, string> | null {
  const out: Record<string, string> = {};
  if (stored.etag) out['if-none-match'] = stored.etag;
  if (stored.lastModified) out['if-modified-since'] = stored.lastModified;
  return Object.keys(out).length > 0 ? out : null;
}

/** Outcomes of an attempt that never went out: not counted in `attempts`. */
const NOT_SENT: ReadonlySet<string> = new Set(['CANCELLED', 'HOST_SKIPPED']);

/** HEAD is refused by some servers; RFC 9110 lets us ask again with GET (lychee does the same). */
const HEAD_REFUSED = new Set([405, 501]);

/**
 * The life of one URL: for each hop of its redirect chain, the robots check and attempts with retries (backoff
 * with jitter, Retry-After honoured and capped, the host paused meanwhile), each hop through its own host's gate;
 * then the parse stage. The body is counted in `hold`, the URL's share of the byte budget, from the moment it
 * lands until the pipeline hands the result to the consumer. Always resolves to a result, never rejects.
 */
export async function processUrl(ctx: RunContext, item: RequestItem, hold: Hold): Promise<FetchResult> {
  if (item.error || !item.url) return failedResult(item.input, item.error ?? new FetchError('INVALID_URL', 'no URL'));
  const { options, parking } = ctx;
  const started = performance.now();
  // Every result reaching here is a fresh object of this URL's own: stamped in place rather than copied.
  const finish = (result: FetchResult): FetchResult => {
    result.elapsedMs = Math.round(performance.now() - started);
    return result;
  };
  let attempts = 0;
  // Validators of an earlier run belong to the URL they were stored for: sent on the first hop only.
  const stored = options.validators?.(item.input);
  const conditional = stored ? conditionalHeaders(stored) : null;
  // A request's own timeoutMs and retries override the run's.
  const retries = item.retries ?? options.retries;
  const own = item.timeoutMs === undefined ? ctx.client : { ...ctx.client, timeoutMs: item.timeoutMs };
  // With --warc, the settings carry this URL's recorder: every response of every hop is archived.
  const settings = ctx.keep ? ctx.keep.settingsFor(item, own) : own;

  /** One hop of the chain: its host's robots.txt, then attempts with retries. */
  const hop = async (url: URL, request: HopRequest): Promise<HttpResponse | FetchError> => {
    if (ctx.robots) {
      const verdict = await parking.during(ctx.robots.check(url));
      if (ctx.signal.aborted) return cancelledBefore(attempts);
      if (verdict.crawlDelayMs !== null) {
        ctx.hosts.get(url.host).slowTo(verdict.crawlDelayMs);
        ctx.onHostPace?.(url.host, { intervalMs: verdict.crawlDelayMs });
      }
      if (!verdict.allowed) {
        return new FetchError('ROBOTS_DISALLOWED', `robots.txt disallows ${url.pathname} on ${url.host} for this user agent`);
      }
    }
    const { method, body } = request;
    const headers = conditional && url === item.url ? { ...request.headers, ...conditional } : request.headers;
    const spec: RequestSpec = { url, method, readBody: item.method !== 'HEAD', headers, body, settings };
    let outcome: HttpResponse | FetchError;
    for (let retry = 0; ; ) {
      if (ctx.signal.aborted) return cancelledBefore(attempts);
      outcome = await attempt(ctx, spec, hold, attempts);
      if (!(outcome instanceof FetchError && NOT_SENT.has(outcome.code))) attempts++;
      if (spec.method === 'HEAD' && !(outcome instanceof FetchError) && HEAD_REFUSED.has(outcome.status)) {
        spec.method = 'GET';
        continue;
      }
      const retryable = outcome instanceof FetchError ? isRetryableError(outcome.code) : isRetryableStatus(outcome.status);
      if (!retryable || retry >= retries || ctx.signal.aborted) return outcome;
      // RFC 9110 §9.2.2: a POST or PATCH goes again only when it provably never reached the server (retry-safety.ts).
      const failure = outcome instanceof FetchError ? { code: outcome.code, retryAfter: false } : { status: outcome.status, retryAfter: outcome.retryAfterMs !== null };
      if (!mayRetry(spec.method, failure, options.retryUnsafe)) return outcome;
      const retryAfter = outcome instanceof FetchError ? null : outcome.retryAfterMs;
      // A Retry-After longer than we are willing to wait ends the retries: the server said "not now".
      if (retryAfter !== null && retryAfter > options.maxRetryAfterMs) return outcome;
      retry++;
      await parking.during(sleep(retryAfter ?? backoffMs(retry, options.retryBaseMs), ctx.signal));
    }
  };

  // A redirect's next hop is a request of its own, through its own host's robots.txt and gate.
  const first: HopRequest = { method: item.method, headers: mergeHeaders(ctx.client.headers, item.headers), body: item.body };
  const claim = ctx.claim;
  const admitHop = claim === null ? null : (next: URL) => claim(next.hash === '' ? next.href : next.href.slice(0, next.href.indexOf('#')), item.input);
  const { outcome, url, redirects, duplicateOf } = await followRedirects(item.url, first, options.maxRedirects, hop, admitHop);
  if (outcome instanceof FetchError) {
    // finalUrl is where the last response came from: set once any response arrived (a status is known), or once
    // a redirect moved the chain to a URL of its own.
    const status = outcome.status;
    return finish(failedResult(item.input, outcome, { attempts, status, redirects, finalUrl: redirects > 0 || status !== null ? url.href : null }));
  }
  const res = outcome;
  const base: FetchResult = {
    url: item.input,
    finalUrl: url.href,
    ok: false,
    status: res.status,
    error: null,
    contentType: res.contentType,
    etag: header(res.headers, 'etag'),
    lastModified: header(res.headers, 'last-modified'),
    bytes: res.bytes,
    elapsedMs: 0,
    attempts,
    redirects,
    title: null,
    description: null,
  };
  if (options.responseHeaders) base.headers = headerFields(res.headers);
  if (duplicateOf !== undefined) {
    // A crawl's redirect onto a URL requested already: not requested again. The row says where it leads.
    hold.release();
    base.ok = true;
    base.duplicateOf = duplicateOf;
    return finish(base);
  }
  if (res.status === 304 && conditional && url === item.url) {
    // Nothing changed since the earlier run (RFC 9110 §15.4.5): a success, and its validators carry on, so that
    // tonight's output is tomorrow's --since. A 304 may leave them out. A file saved then is still the body.
    hold.release();
    base.ok = true;
    base.notModified = true;
    base.etag ??= stored?.etag ?? null;
    base.lastModified ??= stored?.lastModified ?? null;
    if (stored?.savedAs) base.savedAs = stored.savedAs;
    if (stored?.sha256) base.sha256 = stored.sha256;
    return finish(base);
  }
  if (!options.accept(res.status)) {
    base.error = { code: 'HTTP_STATUS', message: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` };
    return finish(base);
  }
  if (res.status < 200 || res.status >= 300) {
    // An accepted status outside 2xx (`accept`: a 403 a link checker expects, say): ok, with no body to parse.
    hold.release();
    base.ok = true;
    return finish(base);
  }
  const body = res.body;
  // --body and --save keep the body (keep/keep-stage.ts), alongside the parse when there is one.
  const keeping = body !== null && ctx.keep?.keepsBody ? ctx.keep.keep(item, res, url) : null;
  if (body === null || !options.extract || !isHtml(res.contentType)) {
    base.ok = true;
    if (keeping) ctx.keep?.apply(base, await parking.during(keeping));
    // Nothing keeps the body (or only a file, now complete): it stops counting at once.
    if (!ctx.keep?.retainsBody) hold.release();
    return finish(base);
  }
  // The body waits for (and sits in) the parser, and its fields wait for the consumer: counted (since it landed,
  // see attempt) until the consumer takes the result.
  try {
    // The parser takes a body it owns away (a transfer): one also kept or archived is not its own.
    const owned = res.bodyOwned && ctx.keep === null;
    const fields = await parking.during(ctx.parser().parse({ body, owned, contentType: res.contentType, url: url.href }, ctx.signal));
    Object.assign(base, fields);
    base.ok = true;
  } catch (err) {
    const error = err instanceof FetchError ? err : new FetchError('PARSE', `parser failed: ${(err as Error)?.message ?? String(err)}`);
    base.error = toResultError(error);
  }
  if (keeping) ctx.keep?.apply(base, await parking.during(keeping));
  return finish(base);
}

/** The response's header fields as a result carries them: lower-cased names, repeated fields as arrays. */
function headerFields(headers: HttpResponse['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}
