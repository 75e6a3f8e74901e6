import type { Dispatcher } from 'undici';
import type { LimitFunction } from 'p-limit';
import { FetchError, cancelledAt, redactUrl } from '../errors.js';
import { classifyError } from '../fetch/classify.js';
import { failedResult, toResultError, type FetchResult } from '../result.js';
import type { NormalizedOptions } from '../options.js';
import type { UrlItem } from '../source/url-input.js';
import { fetchOnce, type ClientSettings, type HttpResponse } from '../fetch/client.js';
import { sleep } from '../sleep.js';
import { isHtml } from '../parse/content-type.js';
import { nextHop } from '../fetch/redirects.js';
import type { PageParser } from '../parse/types.js';
import type { HostGates } from './host-gate.js';
import { backoffMs, isRetryableError, isRetryableStatus } from './retry-policy.js';
import type { RobotsRules } from '../robots/robots-rules.js';

/** Everything a URL's processing needs from its run; built once per run. */
export interface RunContext {
  options: NormalizedOptions;
  client: ClientSettings;
  dispatcher: Dispatcher;
  global: LimitFunction;
  hosts: HostGates;
  /** Created on the first HTML page, so runs that parse nothing start no threads. */
  parser: () => PageParser;
  robots: RobotsRules | null;
  signal: AbortSignal;
  /** +1 when a URL starts waiting on something other than a global slot, -1 when it stops (the feeder's demand). */
  park: (delta: 1 | -1) => void;
}

/** Awaits `promise` with the URL counted as parked meanwhile. */
async function parkedWhile<T>(ctx: RunContext, promise: Promise<T>): Promise<T> {
  ctx.park(1);
  try {
    return await promise;
  } finally {
    ctx.park(-1);
  }
}

/** HEAD is refused by some servers; RFC 9110 lets us ask again with GET (lychee does the same). */
const HEAD_REFUSED = new Set([405, 501]);

/** For a URL the run was cancelled around before (another) request went out. */
function cancelled(attempts = 0): FetchError {
  return cancelledAt(attempts === 0 ? 'queued' : 'backoff');
}

/** One attempt through the host gate, then a global slot: the host wait never holds a global slot. */
async function attempt(
  ctx: RunContext,
  url: URL,
  method: 'GET' | 'HEAD',
  readBody: boolean,
  headers: Record<string, string>,
  attemptsSoFar: number,
): Promise<HttpResponse | FetchError> {
  const gate = ctx.hosts.get(url.host);
  // Parked while the host holds this request back (busy, paced or paused). A free host lets it through within
  // `run` itself, and then it is never counted as parked at all.
  let atGate = true;
  let parked = false;
  const leaveGate = (): void => {
    atGate = false;
    if (parked) {
      parked = false;
      ctx.park(-1);
    }
  };
  const done = gate.run(() => {
    leaveGate();
    return ctx.global(async () => {
      if (ctx.signal.aborted) throw cancelled(attemptsSoFar);
      const res = await fetchOnce(ctx.dispatcher, url, method, readBody, ctx.client, ctx.signal, headers);
      // Pause the host before this request gives up its slot, so the next request to it waits too.
      if (res.retryAfterMs !== null && isRetryableStatus(res.status)) gate.pause(Math.min(res.retryAfterMs, ctx.options.maxRetryAfterMs));
      return res;
    });
  }, ctx.signal);
  if (atGate) {
    parked = true;
    ctx.park(1);
  }
  try {
    return await done;
  } catch (err) {
    return classifyError(err, { timedOut: false, cancelled: ctx.signal.aborted, timeoutMs: ctx.options.timeoutMs });
  } finally {
    leaveGate();
    ctx.hosts.release(url.host);
  }
}

/**
 * The life of one URL: for each hop of its redirect chain, the robots check and attempts with retries (backoff
 * with jitter, Retry-After honoured and capped, the host paused meanwhile), each hop through its own host's gate;
 * then the parse stage. Always resolves to a result, never rejects.
 */
export async function processUrl(ctx: RunContext, item: UrlItem): Promise<FetchResult> {
  if (item.error || !item.url) return failedResult(item.input, item.error ?? new FetchError('INVALID_URL', 'no URL'));
  const { options } = ctx;
  const started = performance.now();
  // Every result reaching here is a fresh object of this URL's own: stamped in place rather than copied.
  const finish = (result: FetchResult): FetchResult => {
    result.elapsedMs = Math.round(performance.now() - started);
    return result;
  };
  let url = item.url;
  let headers = ctx.client.headers;
  let redirects = 0;
  /** URLs of this chain so far, to name a loop as one (kept only once a chain starts). */
  let chain: Set<string> | null = null;
  let attempts = 0;
  // finalUrl is where the last response came from: set once any response arrived (a status is known), or once a
  // redirect moved the chain to a URL of its own.
  const failed = (error: FetchError, status: number | null = error.status): FetchResult =>
    finish(failedResult(item.input, error, { attempts, status, redirects, finalUrl: redirects > 0 || status !== null ? url.href : null }));

  let outcome: HttpResponse | FetchError;
  for (;;) {
    if (ctx.robots) {
      const verdict = await parkedWhile(ctx, ctx.robots.check(url, ctx.signal));
      if (ctx.signal.aborted) return failed(cancelled(attempts));
      if (verdict.crawlDelayMs !== null) ctx.hosts.get(url.host).slowTo(verdict.crawlDelayMs);
      if (!verdict.allowed) {
        return failed(new FetchError('ROBOTS_DISALLOWED', `robots.txt disallows ${url.pathname} on ${url.host} for this user agent`));
      }
    }

    let method = options.method;
    for (let retry = 0; ; ) {
      if (ctx.signal.aborted) return failed(cancelled(attempts));
      outcome = await attempt(ctx, url, method, options.method === 'GET', headers, attempts);
      if (!(outcome instanceof FetchError && outcome.code === 'CANCELLED')) attempts++;
      if (method === 'HEAD' && !(outcome instanceof FetchError) && HEAD_REFUSED.has(outcome.status)) {
        method = 'GET';
        continue;
      }
      const retryable = outcome instanceof FetchError ? isRetryableError(outcome.code) : isRetryableStatus(outcome.status);
      if (!retryable || retry >= options.retries || ctx.signal.aborted) break;
      const retryAfter = outcome instanceof FetchError ? null : outcome.retryAfterMs;
      if (retryAfter !== null) {
        // A Retry-After longer than we are willing to wait ends the retries: the server said "not now".
        if (retryAfter > options.maxRetryAfterMs) break;
      }
      retry++;
      await parkedWhile(ctx, sleep(retryAfter ?? backoffMs(retry, options.retryBaseMs), ctx.signal));
    }

    if (outcome instanceof FetchError || outcome.location === null) break;
    // A redirect: the next hop is a request of its own, through its own host's robots.txt and gate.
    const hop = nextHop(url, outcome.location, headers);
    if (hop instanceof FetchError) return failed(hop, outcome.status);
    chain ??= new Set([url.href]);
    if (chain.has(hop.url.href)) {
      return failed(new FetchError('TOO_MANY_REDIRECTS', `redirect loop: ${redactUrl(hop.url.href)} again after ${redirects + 1} redirects`), outcome.status);
    }
    if (redirects >= options.maxRedirects) {
      return failed(
        new FetchError('TOO_MANY_REDIRECTS', `still redirecting after ${redirects} redirects (maxRedirects is ${options.maxRedirects})`),
        outcome.status,
      );
    }
    chain.add(hop.url.href);
    redirects++;
    url = hop.url;
    headers = hop.headers;
  }

  if (outcome instanceof FetchError) return failed(outcome);
  const res = outcome;
  const base: FetchResult = {
    url: item.input,
    finalUrl: url.href,
    ok: false,
    status: res.status,
    error: null,
    contentType: res.contentType,
    bytes: res.bytes,
    elapsedMs: 0,
    attempts,
    redirects,
    title: null,
    description: null,
  };
  if (res.status < 200 || res.status >= 300) {
    base.error = { code: 'HTTP_STATUS', message: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` };
    return finish(base);
  }
  if (!options.extract || !res.body || !isHtml(res.contentType)) {
    base.ok = true;
    return finish(base);
  }
  try {
    const fields = await parkedWhile(ctx, ctx.parser().parse({ body: res.body, contentType: res.contentType, url: url.href }, ctx.signal));
    Object.assign(base, fields);
    base.ok = true;
    return finish(base);
  } catch (err) {
    const error = err instanceof FetchError ? err : new FetchError('PARSE', `parser failed: ${(err as Error)?.message ?? String(err)}`);
    base.error = toResultError(error);
    return finish(base);
  }
}
