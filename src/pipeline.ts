import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import type { Dispatcher } from './fetch/undici.js';
import type { NormalizedOptions, Progress } from './options.js';
import { failedResult, type FetchResult } from './result.js';
import { FetchError, cancelledAt } from './errors.js';
import { VolleyBugError, testStallHook, watchDrain } from './drain-guard.js';
import { nextTurn } from './sleep.js';
import { toRequestItem, type RequestItem } from './source/requests.js';
import { createDispatcher } from './fetch/dispatcher.js';
import { ACCEPT_ENCODING } from './fetch/headers.js';
import { HostGates } from './schedule/host-gate.js';
import { processUrl } from './schedule/process-url.js';
import { fetchRobotsTxt, type RunContext } from './schedule/request.js';
import { Parking } from './schedule/parking.js';
import { HostBreaker, type Breaker } from './schedule/breaker.js';
import { ByteBudget, type Hold } from './schedule/byte-budget.js';
import { RobotsRules, type RobotsStore } from './robots/robots-rules.js';
import { createParseStage, type ParseStage } from './parse/stage.js';
import type { PageParser } from './parse/types.js';
import type { KeepStage } from './keep/keep-stage.js';

/** A result with its place in the input, so `fetchAll` can put results back in input order. */
export interface IndexedResult {
  index: number;
  result: FetchResult;
}

/** A finished URL waiting for the consumer, with the bytes it holds in the budget until then. */
interface ReadyEntry extends IndexedResult {
  hold: Hold;
}

/** A URL taken from the source whose row is still owed. */
interface Owed {
  item: RequestItem;
  hold: Hold;
}

/**
 * Parts a test may put in place of the run's own, to watch or slow down one stage. Not public API: `fetchAll` and
 * `fetchEach` pass none.
 */
export interface PipelineParts {
  /** Replaces the parse pool (and is not destroyed by the run). */
  parser?: PageParser;
  /** Replaces the run's byte budget (its limit is then the budget's, not `maxBufferedBytes`). */
  budget?: ByteBudget;
  /** A crawl's frontier, asked before each redirect hop (see RunContext.claim). */
  claim?: (key: string, by: string) => boolean | Promise<boolean>;
  /**
   * The source is volley's own (a crawl's frontier): a source that stops handing out work without ending is then a
   * bug the drain guard reports, not the caller's slow source.
   */
  ownSource?: boolean;
  /** Told when a host is paused (Retry-After) or slowed (Crawl-delay): a shared queue's worker tells the fleet. */
  onHostPace?: (host: string, pace: HostPace) => void;
  /** Replaces the run's own breaker: a shared queue's workers share one per job (frontier/redis-breaker.ts). */
  breaker?: Breaker;
  /** Where robots.txt files are shared between runs: a shared queue's job fetches each once (frontier/redis-robots.ts). */
  robotsStore?: RobotsStore;
}

/** A pause (`Retry-After`) or a slower pace (`Crawl-delay`) a host asked for. */
export interface HostPace {
  pauseMs?: number;
  intervalMs?: number;
}

/**
 * URLs taken from the source beyond the concurrency limit. Enough to find work for other hosts while one host
 * waits on its per-host limit, small enough that memory stays flat whatever the list's length. Finished results
 * the consumer has not taken yet count against the same window: that is the backpressure.
 */
export const READ_AHEAD = 1024;

/**
 * URLs that want a global slot now, as a multiple of `concurrency`: enough queued that a freed slot is taken at
 * once, few enough that a bulk run keeps a small live set (each URL in flight holds promises and closures: a
 * full read-ahead window of them cost ~10 µs per URL in GC on small pages) and that Ctrl-C has few URLs that
 * were taken but never requested. Parked URLs (behind a busy host, in backoff, behind robots.txt, in the parse
 * stage: schedule/parking.ts) do not count, so read-ahead still finds other hosts' work, up to the window.
 */
const DEMAND_FACTOR = 2;

/** URLs of the first round (the first `concurrency`) taken between two turns of the event loop (see `feed`). */
const FIRST_ROUND_STEP = 8;

type Source = Iterable<unknown> | AsyncIterable<unknown>;

/**
 * What `dedupe` compares: the method and the URL. A request with a body, headers or `meta` of its own is a piece
 * of work of its own (two POSTs of two records to one URL), never a repeat: null. Items that failed validation are
 * never de-duplicated either (each gets its own row).
 */
function dedupeKey(item: RequestItem): string | null {
  if (item.url === null || item.body !== null || item.meta !== undefined || Object.keys(item.headers).length > 0) return null;
  return item.method === 'GET' ? item.url.href : `${item.method} ${item.url.href}`;
}

/** The result with the request's `meta` as its second field, after `url` (where JSON rows show it). */
function withMeta(result: FetchResult, meta: unknown): FetchResult {
  const { url, ...rest } = result;
  return { url, meta, ...rest };
}

/** The iterator of a source as the caller gave it (an Iterable or AsyncIterable, never a string). */
export function iteratorOf(source: Source): AsyncIterator<unknown> | Iterator<unknown> {
  if (source && typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  }
  if (source && typeof (source as Iterable<unknown>)[Symbol.iterator] === 'function' && typeof source !== 'string') {
    return (source as Iterable<unknown>)[Symbol.iterator]();
  }
  throw new TypeError(`Expected \`urls\` to be an Iterable or AsyncIterable of URL strings or request objects, got \`${String(source)}\` (${typeof source})`);
}

/** A one-shot wake-up that can be re-armed: the loop sleeps on it until something changes. */
class Wakeup {
  private resolve: (() => void) | null = null;
  wait(): Promise<void> {
    return new Promise((r) => (this.resolve = r));
  }
  notify(): void {
    const r = this.resolve;
    this.resolve = null;
    r?.();
  }
}

/**
 * The run: reads the source lazily, starts each URL as the window allows, and yields results as they finish
 * (as_completed). Cancelling (the user's signal, or the consumer leaving early) aborts in-flight work; every URL
 * already taken still yields exactly one result, CANCELLED if unfinished. Owned resources (dispatcher, parse
 * threads) are released before the generator returns.
 */
export async function* runPipeline(source: Source, options: NormalizedOptions, parts: PipelineParts = {}): AsyncGenerator<IndexedResult> {
  const iterator = iteratorOf(source);
  // body, save, warc (issue 13): loaded only when asked for. The WARC file is opened before anything is fetched,
  // so a path that cannot be written fails the run at once (the caller gets the WRITE error).
  const keep = await openKeepStage(options, iterator);
  const controller = new AbortController();
  const signal = controller.signal;
  // Every in-flight request, backoff sleep and parse task listens on the run's signal: thousands at once is normal.
  setMaxListeners(0, signal);
  const onUserAbort = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onUserAbort();
  else options.signal?.addEventListener('abort', onUserAbort, { once: true });

  const ownedDispatcher: Dispatcher | null = options.dispatcher ? null : createDispatcher(options);
  // Plain, no interceptors: redirects are followed hop by hop in processUrl (see fetch/redirects.ts).
  const dispatcher = options.dispatcher ?? (ownedDispatcher as Dispatcher);
  const client = {
    timeoutMs: options.timeoutMs,
    maxBytes: options.maxBytes,
    headers: { 'user-agent': options.userAgent, 'accept-encoding': ACCEPT_ENCODING, ...options.headers },
  };
  // Threads take a few hundred ms to start (each loads cheerio): they start as the run takes its second URL,
  // while the first requests are on the wire, unless this run will never parse. A run of one URL starts none
  // for a small page: the main thread parses it sooner than a thread could boot (parse/stage.ts).
  const willParse = options.extract !== null && options.method === 'GET' && !options.signal?.aborted && !parts.parser;
  let stage: ParseStage | null = null;
  const parseStage = (): ParseStage => (stage ??= createParseStage(options));
  const roomFreed = new Wakeup();
  const ctx: RunContext = {
    options,
    client,
    dispatcher,
    global: pLimit(options.concurrency),
    hosts: new HostGates(
      options.perHost,
      Math.max(options.perHostDelayMs, options.perHostRate > 0 ? 1000 / options.perHostRate : 0),
      options.concurrency,
    ),
    budget: parts.budget ?? new ByteBudget(options.maxBufferedBytes),
    // A URL that parks lowers the demand: the feeder may take another.
    parking: new Parking(() => roomFreed.notify()),
    parser: () => parts.parser ?? parseStage(),
    robots: options.respectRobots ? new RobotsRules(options.userAgent, (robotsUrl) => fetchRobotsTxt(ctx, robotsUrl), parts.robotsStore) : null,
    claim: parts.claim ?? null,
    onHostPace: parts.onHostPace ?? null,
    breaker: parts.breaker ?? new HostBreaker(options.maxHostErrors, { cooldownMs: options.hostCooldownMs }),
    keep,
    signal,
  };

  const window = options.concurrency + READ_AHEAD;
  const maxDemand = options.concurrency * DEMAND_FACTOR;
  const ready: ReadyEntry[] = [];
  const wakeup = new Wakeup();
  const seen = options.dedupe ? new Set<string>() : null;
  // A URL string, or a request object that names no method, takes the run's.
  const defaults = { method: options.method };
  const progress: Progress = { started: 0, done: 0, ok: 0, failed: 0, inFlight: 0, active: 0, pausedHosts: 0 };
  let sourceDone = false;
  let sourceError: unknown = null;
  let bug = null as { error: unknown } | null;
  let index = 0;
  // Every URL started and not yet finished, by index (its size is the run's in-flight count): what the drain guard
  // accounts for if a bug strands them.
  const owed = new Map<number, Owed>();
  // The run is waiting for its own in-flight work (not suspended in `yield`, waiting for its consumer).
  let waiting = false;
  const stall = testStallHook();

  const report = (): void => {
    if (!options.onProgress) return;
    progress.inFlight = owed.size;
    progress.pausedHosts = ctx.hosts.pausedCount;
    progress.active = ctx.global.activeCount;
    try {
      options.onProgress({ ...progress });
    } catch (err) {
      // The caller's callback broke its contract; the run stops and the caller gets its error, not a lost row.
      bug ??= { error: err };
      controller.abort(err);
    }
  };
  /** A started URL's row; at most once per URL, so a row the drain guard gave is not given again. */
  const finish = (item: RequestItem, result: FetchResult): void => {
    const entry = owed.get(item.index);
    if (entry === undefined) return;
    owed.delete(item.index);
    complete({ index: item.index, result: item.meta === undefined ? result : withMeta(result, item.meta), hold: entry.hold });
  };
  // The event loop ran dry while this run waited for URLs in flight: nothing can finish them any more (drain-guard.ts).
  const drain = watchDrain(() => {
    if (!waiting) return;
    if (owed.size === 0) {
      // A crawl's frontier that neither hands out work nor ends: the crawl would stop short, exit 0, say nothing.
      if (parts.ownSource && !sourceDone) {
        const err = new VolleyBugError(0, 'the crawl stopped handing out work before it was done');
        bug ??= { error: err };
        controller.abort(err);
      }
      return;
    }
    const err = new VolleyBugError(owed.size);
    bug ??= { error: err };
    const lost = new FetchError('INTERNAL', 'volley lost track of this request: its work stopped with nothing left to finish it (a bug in volley; please report it)');
    for (const { item } of [...owed.values()]) finish(item, failedResult(item.input, lost));
    controller.abort(err);
  });
  const waitForWork = (on: boolean): void => {
    waiting = on;
    drain.hold(on);
  };
  const complete = (entry: ReadyEntry): void => {
    ready.push(entry);
    progress.done++;
    if (entry.result.ok) progress.ok++;
    else progress.failed++;
    report();
    wakeup.notify();
    roomFreed.notify();
  };

  // On cancel, nothing may stay asleep: the loop must see it even when no URL is in flight (a source blocked
  // on stdin, say), and the feeder must stop waiting for room.
  signal.addEventListener('abort', () => {
    wakeup.notify();
    roomFreed.notify();
  }, { once: true });

  // processUrl turns every failure into a result, so a throw that reaches the feeder is a bug in volley: the run is
  // cancelled (every URL still gets its row) and the generator rethrows it at the end, so that the caller learns of
  // it instead of reading it as one more failed URL.
  const broke = (item: RequestItem, err: unknown): FetchResult => {
    bug ??= { error: err };
    controller.abort(err);
    return failedResult(item.input, cancelledAt('request'));
  };
  const feed = async (): Promise<void> => {
    try {
      for (;;) {
        while ((owed.size + ready.length >= window || owed.size - ctx.parking.count >= maxDemand) && !signal.aborted) {
          await roomFreed.wait();
        }
        if (signal.aborted) break;
        const next = await iterator.next();
        if (next.done || signal.aborted) {
          // A value pulled just as the run was cancelled was never started: it is not counted or reported.
          if (next.done && willParse && progress.started === 1) parseStage().loadInline();
          break;
        }
        const item = toRequestItem(next.value, index++, defaults);
        const key = seen && dedupeKey(item);
        if (key) {
          if (seen.has(key)) {
            index--;
            continue;
          }
          seen.add(key);
        }
        progress.started++;
        if (willParse && progress.started === 2) parseStage().startThreads();
        const hold = ctx.budget.hold();
        owed.set(item.index, { item, hold });
        const processing = stall?.(item.input) ? new Promise<FetchResult>(() => {}) : processUrl(ctx, item, hold);
        // A row only after what it claims: its WARC records are written.
        if (keep) {
          void processing
            .then((result) => keep.settle(item, result), (err: unknown) => keep.settle(item, broke(item, err)))
            .then((result) => finish(item, result));
        } else void processing.then((result) => finish(item, result), (err: unknown) => finish(item, broke(item, err)));
        // Taking URLs goes on in microtasks, which the event loop does not interleave with I/O: at the start, every
        // URL of the demand window (twice the concurrency) ran its cold path before any connection could complete
        // and send. A turn of the loop after each `concurrency` URLs lets the first ones go out meanwhile (W2: the
        // first request left ~15 ms sooner, two rounds of 100 ended ~35 ms sooner; docs/performance.md), and within
        // the first round, while every URL's path is still cold (~180 µs each), after each FIRST_ROUND_STEP: the
        // first connection is then taken up ~10 ms sooner (W2 on Node 22, 8 pairs each way: 0.985x and 0.978x).
        if (progress.started % (progress.started <= options.concurrency ? FIRST_ROUND_STEP : options.concurrency) === 0) await nextTurn();
      }
    } catch (err) {
      sourceError = err;
      controller.abort(err);
    } finally {
      sourceDone = true;
      wakeup.notify();
    }
  };
  const feeding = feed();
  try {
    for (;;) {
      while (ready.length > 0) {
        const entry = ready.shift() as ReadyEntry;
        // Taken by the consumer: its bytes are the consumer's now, and may let the next request start.
        entry.hold.release();
        roomFreed.notify();
        yield entry;
      }
      if (owed.size === 0 && (sourceDone || signal.aborted)) break;
      waitForWork(true);
      await wakeup.wait();
      waitForWork(false);
    }
    if (bug) throw bug.error;
    if (sourceError) throw sourceError;
  } finally {
    // Reached on normal end, on cancel, and when the consumer stops early (break/return/throw in for-await).
    if (!signal.aborted) controller.abort(new DOMException('the run ended', 'AbortError'));
    options.signal?.removeEventListener('abort', onUserAbort);
    roomFreed.notify();
    // In-flight work resolves promptly once aborted; wait for it so no socket or thread outlives the run.
    waitForWork(true);
    while (owed.size > 0) await wakeup.wait();
    waitForWork(false);
    drain.stop();
    if (sourceDone) await feeding;
    else void Promise.resolve(iterator.return?.()).catch(() => {});
    await Promise.allSettled([
      (stage as ParseStage | null)?.destroy(),
      ownedDispatcher?.destroy(),
    ]);
    // Every URL's records are written by now (settle); a failure no row reported rejects the run.
    await keep?.close();
  }
}

/** The run's keep stage, its WARC file open; null when the run keeps nothing. */
async function openKeepStage(options: NormalizedOptions, iterator: AsyncIterator<unknown> | Iterator<unknown>): Promise<KeepStage | null> {
  if (options.body === null && options.save === null && options.warc === null) return null;
  try {
    const { KeepStage } = await import('./keep/keep-stage.js');
    const keep = new KeepStage(options);
    await keep.open();
    return keep;
  } catch (err) {
    void Promise.resolve(iterator.return?.()).catch(() => {});
    throw err;
  }
}
