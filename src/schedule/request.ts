import type { Dispatcher } from '../fetch/undici.js';
import { FetchError, cancelledAt } from '../errors.js';
import { classifyError } from '../fetch/classify.js';
import { fetchOnce, type ClientSettings, type HttpResponse } from '../fetch/client.js';
import type { NormalizedOptions } from '../options.js';
import type { KeepStage } from '../keep/keep-stage.js';
import type { PageParser } from '../parse/types.js';
import type { Method } from '../source/requests.js';
import { ROBOTS_MAX_BYTES, ROBOTS_MAX_REDIRECTS, type RobotsRules } from '../robots/robots-rules.js';
import type { ByteBudget, Hold } from './byte-budget.js';
import type { LimitFunction } from 'p-limit';
import type { HostGates } from './host-gate.js';
import type { Parking } from './parking.js';
import { followRedirects } from './redirect-chain.js';
import { isRetryableStatus } from './retry-policy.js';
import { hostSkippedError, type Breaker } from './breaker.js';

/** Everything a URL's processing needs from its run; built once per run. */
export interface RunContext {
  options: NormalizedOptions;
  client: ClientSettings;
  dispatcher: Dispatcher;
  /** The global concurrency slot: every request on the wire holds one. */
  global: LimitFunction;
  hosts: HostGates;
  /** Bytes held between the network and the consumer (`maxBufferedBytes`). */
  budget: ByteBudget;
  /** URLs waiting on something other than a global slot: the feeder's demand window. */
  parking: Parking;
  /** Created on the first HTML page, so runs that parse nothing start no threads. */
  parser: () => PageParser;
  robots: RobotsRules | null;
  /**
   * A crawl's frontier, asked before each redirect hop (its URL without the fragment): false when that URL was
   * requested already, and the redirect is not followed (a shared frontier answers from Redis: a promise).
   * Null outside a crawl.
   */
  claim: ((key: string, by: string) => boolean | Promise<boolean>) | null;
  /** Told of each pause (Retry-After) and pace (Crawl-delay) a host asks for; null but in a shared queue's worker. */
  onHostPace: ((host: string, pace: { pauseMs?: number; intervalMs?: number }) => void) | null;
  /** Dead hosts (`maxHostErrors`): skipped while their breaker is open, probed after a cool-down. The run's own, or a
   * shared queue's (every worker of the job sees the same hosts skipped). */
  breaker: Breaker;
  /** What `body`, `save` and `warc` keep (keep/keep-stage.ts); null when none is asked for. */
  keep: KeepStage | null;
  signal: AbortSignal;
}

/** One request as the scheduler sees it. */
export interface RequestSpec {
  url: URL;
  method: Method;
  /** False for link checks: the status only, the body drained. */
  readBody: boolean;
  headers: Record<string, string>;
  /** The request's body, buffered (sent again on a retry); null for none. */
  body: Uint8Array | null;
  /** Deadline and byte cap: the run's for pages, tighter for robots.txt. */
  settings: ClientSettings;
}

/** For a URL the run was cancelled around before (another) request went out. */
export function cancelledBefore(attemptsSoFar: number): FetchError {
  return cancelledAt(attemptsSoFar === 0 ? 'queued' : 'backoff');
}

/**
 * One attempt of one request, the only way a run sends anything (robots.txt included), so the user's limits hold
 * for every request: first its host's gate (per-host limit, pacing, a Retry-After pause), which never holds a
 * global slot; then a global slot; then, the last moment before it goes out, room in the byte budget (a request
 * waits for room holding its slots, so that none starts while the budget is full; nothing else could start then
 * either).
 *
 * `hold` is the share of the budget of the URL the request is made for: the body is counted there before the
 * request gives up its slot (so the next request already sees it), and the URL is parked while its host holds the
 * request back. Null for a request that is no URL's own: robots.txt, whose body is read and dropped at once and
 * whose waiting URLs park themselves. Never rejects: a failure is returned as a FetchError.
 */
export async function attempt(ctx: RunContext, spec: RequestSpec, hold: Hold | null, attemptsSoFar: number): Promise<HttpResponse | FetchError> {
  const { url } = spec;
  // Read once: URL's host getter builds a new string on every call, and an attempt needs it six times.
  const host = url.host;
  const skippedBefore = ctx.breaker.skipped(host);
  if (skippedBefore) return hostSkippedError(host, skippedBefore);
  const gate = ctx.hosts.get(host);
  const send = async (): Promise<HttpResponse> => {
    if (ctx.budget.full) await ctx.budget.room(ctx.signal);
    if (ctx.signal.aborted) throw cancelledBefore(attemptsSoFar);
    // The host may have been found dead while this request waited for its turn: it is not sent. Or its cool-down
    // is over and this request is its one probe: recorded however it ends (fetchOnce always settles), with nothing
    // awaited in between, so the host cannot stay half-open.
    // A shared breaker answers with a Promise (it asks Redis); the local one does not, and is not awaited.
    let admission = ctx.breaker.admit(host);
    if (admission instanceof Promise) admission = await admission;
    if (typeof admission === 'object') throw hostSkippedError(host, admission);
    let res: HttpResponse;
    try {
      res = await fetchOnce(ctx.dispatcher, url, spec.method, spec.readBody, spec.settings, ctx.signal, spec.headers, spec.body);
    } catch (err) {
      // A failure that carries a status came after the response head: the host answered.
      if (err instanceof FetchError && err.status === null) ctx.breaker.record(host, err.code, admission);
      else ctx.breaker.record(host, 'response', admission);
      throw err;
    }
    ctx.breaker.record(host, 'response', admission);
    if (res.body !== null) hold?.add(res.body.byteLength);
    // Pause the host before this request gives up its slot, so the next request to it waits too.
    if (res.retryAfterMs !== null && isRetryableStatus(res.status)) {
      const pauseMs = Math.min(res.retryAfterMs, ctx.options.maxRetryAfterMs);
      gate.pause(pauseMs);
      ctx.onHostPace?.(host, { pauseMs });
    }
    return res;
  };
  const throughGate = (unpark: () => void): Promise<HttpResponse> =>
    gate.run(() => {
      unpark();
      return ctx.global(send);
    }, ctx.signal);
  try {
    return await (hold ? ctx.parking.until(throughGate) : throughGate(noop));
  } catch (err) {
    return classifyError(err, { timedOut: false, cancelled: ctx.signal.aborted, timeoutMs: spec.settings.timeoutMs });
  } finally {
    ctx.hosts.release(host);
  }
}

function noop(): void {}

/**
 * Fetches a robots.txt as any request is fetched (`attempt`), one attempt per hop, following up to five redirects
 * (RFC 9309 §2.3.1.2) and reading at most ROBOTS_MAX_BYTES. The run's RobotsFetcher.
 */
export async function fetchRobotsTxt(ctx: RunContext, robotsUrl: URL): Promise<HttpResponse | FetchError> {
  const own: ClientSettings = { ...ctx.client, maxBytes: ROBOTS_MAX_BYTES };
  const settings = ctx.keep ? ctx.keep.robotsSettings(own) : own;
  const get = { method: 'GET', headers: ctx.client.headers, body: null } as const;
  const end = await followRedirects(robotsUrl, get, ROBOTS_MAX_REDIRECTS, (url, { headers }) =>
    attempt(ctx, { url, method: 'GET', readBody: true, headers, body: null, settings }, null, 0),
  );
  return end.outcome;
}
