import { normalizeOptions, type NormalizedOptions, type VolleyOptions } from './options.js';
import { runPipeline, type IndexedResult } from './pipeline.js';
import { VolleyBugError } from './drain-guard.js';
import type { FetchResult } from './result.js';
import type { SourceLine } from './source/url-input.js';
import type { VolleyRequest } from './source/requests.js';
import type { RequestLine } from './source/request-lines.js';

export type { VolleyOptions, Progress, StoredValidators, Validators, BodyForm, SaveOptions, WarcOptions } from './options.js';
export type { AcceptSpec } from './schedule/accept.js';
export type { TlsOptions } from './fetch/tls.js';
/** A request as a value (`{ url, method, headers, body | json, meta, timeoutMs, retries }`), and its methods. */
export type { VolleyRequest, Method } from './source/requests.js';
export { METHODS } from './source/requests.js';
export type { FetchResult } from './result.js';
export type { ExtractSpec, SelectorSpec } from './parse/spec.js';
export type { ErrorCode, ResultError } from './errors.js';
export { ERROR_CODES } from './errors.js';
export { VolleyBugError } from './drain-guard.js';
export { DEFAULTS } from './options.js';
/**
 * URL lines of a file (`-` for stdin) or a stream, read lazily, blank lines and `#` comments skipped: what the CLI
 * reads. A line longer than 64 KiB comes as an `OverlongLine` (its start and its length), never as a whole string.
 */
export { readUrlFile, readUrlLines } from './source/lines.js';
export { OverlongLine, type SourceLine } from './source/url-input.js';
/**
 * Request lines of a JSONL file (`-` for stdin) or a stream, one request object per line, read lazily: what the
 * CLI's `--requests` reads. A line that is not a JSON object comes as a `RequestLine` holding why, and becomes an
 * INVALID_REQUEST result.
 */
export { readRequestFile, readRequestLines, RequestLine } from './source/request-lines.js';

export type { FollowOptions, CrawlScope } from './crawl/follow-options.js';

/** A list as given, or a crawl that grows from it (`follow`, `sitemaps`). */
function run(urls: UrlSource, options: NormalizedOptions): AsyncGenerator<IndexedResult> {
  return options.follow !== null || options.sitemaps.length > 0 ? crawl(urls, options) : runPipeline(urls, options);
}

/**
 * The crawl, loaded by the runs that crawl: it brings the Public Suffix List (tldts) and the XML parser (saxes),
 * ~260 KB that a plain list's start-up must not pay for.
 */
async function* crawl(urls: UrlSource, options: NormalizedOptions): AsyncGenerator<IndexedResult> {
  const { runCrawl } = await import('./crawl/crawl.js');
  yield* runCrawl(urls, options);
}

/** The `body` form an options type asks for: a literal `'text'`, `'bytes'` or `'json'`, else unknown. */
type BodyFormOf<O> = O extends { body?: infer B } ? B : undefined;

/**
 * A result typed for the options it was fetched with: `body` is a `string` with `body: 'text'`, a `Uint8Array`
 * with `body: 'bytes'`; with `body: 'json'` the parsed body is in `json`. Options whose `body` is not known
 * literally give the plain {@link FetchResult}.
 */
export type ResultFor<O> = [BodyFormOf<O>] extends ['text']
  ? Omit<FetchResult, 'body'> & { body?: string }
  : [BodyFormOf<O>] extends ['bytes']
    ? Omit<FetchResult, 'body'> & { body?: Uint8Array }
    : FetchResult;

/**
 * One item of a source: a URL string, a request object, or a line as `readUrlFile` / `readRequestFile` read it.
 * A malformed request object is that item's INVALID_REQUEST result, never an exception.
 */
export type SourceItem = SourceLine | VolleyRequest | RequestLine;

/**
 * URLs and requests in any form a list comes in: an array, a Set, a generator, or an async generator over a huge
 * file (the `OverlongLine`s of `readUrlFile` included: each becomes an INVALID_URL result). Items may be mixed.
 */
export type UrlSource = Iterable<SourceItem> | AsyncIterable<SourceItem>;

/**
 * Fetches every URL (or request) and yields each result as soon as it is done, in completion order (like
 * asyncio.as_completed). A request's `meta` comes back as its result's `meta`.
 * The source is read lazily and a slow consumer holds the run back instead of results piling up. Leaving the loop
 * early (break) cancels what is in flight and releases every socket and thread.
 *
 * Per-URL failures are results with `ok: false`, never exceptions. Invalid options throw a TypeError or RangeError
 * at once, naming the option and the value. A bug in volley that leaves URLs unfinished with nothing left to finish
 * them (the event loop runs dry) does not hang the loop: those URLs are yielded as `INTERNAL` rows, then the
 * iteration throws a {@link VolleyBugError}.
 *
 * @example
 * for await (const r of fetchEach(['https://example.com/'], { timeoutMs: 5000 })) console.log(r.status, r.title);
 * @example
 * const requests = records.map((record) => ({ url: 'https://api.example.com/items', method: 'POST', json: record, meta: record.id }));
 * for await (const r of fetchEach(requests)) console.log(r.meta, r.status);
 */
export function fetchEach<const O extends VolleyOptions = VolleyOptions>(urls: UrlSource, options?: O): AsyncIterable<ResultFor<O>> {
  const normalized = normalizeOptions(options);
  return {
    async *[Symbol.asyncIterator]() {
      for await (const { result } of run(urls, normalized)) yield result as ResultFor<O>;
    },
  };
}

/**
 * Fetches every URL (or request) and resolves to one result per input item, in input order (like asyncio.gather).
 * Never rejects for a URL's failure; rejects only for invalid options or a source that throws, and with a
 * {@link VolleyBugError} when a bug in volley left URLs unfinished with nothing left to finish them: its `results`
 * then hold every row in input order, those URLs as `INTERNAL` rows, so an `await` never hangs and nothing is lost.
 * When `options.signal` aborts, it resolves with every URL taken so far, the unfinished ones as CANCELLED.
 */
export async function fetchAll<const O extends VolleyOptions = VolleyOptions>(urls: UrlSource, options?: O): Promise<ResultFor<O>[]> {
  const normalized = normalizeOptions(options);
  const results: ResultFor<O>[] = [];
  try {
    for await (const { index, result } of run(urls, normalized)) results[index] = result as ResultFor<O>;
  } catch (err) {
    if (err instanceof VolleyBugError) err.results = results;
    throw err;
  }
  return results;
}

// The shared queue on Redis (issue 21). Each function loads the queue's code (and it the `redis` package) on its
// first call, so that a plain `fetchAll` never pays for them at start-up (test/queue-api.test.ts checks).
export { QueueError, QUEUE_ERROR_CODES, type QueueErrorCode } from './queue/errors.js';
export type { QueueTarget, JobOptions, EnqueueOptions, EnqueueSummary, WorkOptions, WorkSummary, ResultsOptions, QueueRow } from './queue/api.js';
export type { QueueStatus } from './frontier/redis-queue.js';
type QueueApi = typeof import('./queue/api.js');
const queueApi = (): Promise<QueueApi> => import('./queue/api.js');

/**
 * Adds URLs and requests to a shared job on Redis, read from `source` as {@link fetchAll} reads it (streamed in
 * batches, never held whole). The job options (`timeoutMs`, `retries`, `perHost`, `perHostRate`, `headers`,
 * `extract`, `body`, …) are stored with the job by its first enqueue, so every worker runs it the same way; a later
 * enqueue with others rejects with a {@link QueueError} `JOB_SETTINGS_DIFFER`. `dedupe` drops requests already in the job.
 *
 * @example
 * await enqueue(urls, { redis: 'redis://queue:6379', job: 'shop', perHost: 2, timeoutMs: 10_000, dedupe: true });
 */
export async function enqueue(source: UrlSource, options?: import('./queue/api.js').EnqueueOptions): ReturnType<QueueApi['enqueue']> {
  return (await queueApi()).enqueue(source, options);
}

/**
 * Works on a job: takes its requests, fetches them with the job's settings, and writes each final row to Redis,
 * exactly once across every worker (`onRow` sees this worker's). Resolves with a summary when the job has nothing
 * pending or leased, or (with `wait`, only then) when `signal` aborts: what it held goes back to the job at once.
 *
 * @example
 * const controller = new AbortController();
 * const { written } = await work({ job: 'shop', concurrency: 20, signal: controller.signal, onRow: (r) => console.log(r.url, r.status) });
 */
export async function work(options?: import('./queue/api.js').WorkOptions): ReturnType<QueueApi['work']> {
  return (await queueApi()).work(options);
}

/** The job's counts (pending, leased, ok, failed, hosts waiting, live workers, Redis memory); null for no such job. */
export async function queueStatus(options?: import('./queue/api.js').QueueTarget): ReturnType<QueueApi['queueStatus']> {
  return (await queueApi()).queueStatus(options);
}

/**
 * Every final row of a job as `{ id, result }`, in completion order. Resume with `after: id`; `follow` waits for
 * more until `signal` aborts or the loop is left. Bad options reject the first `next()`.
 *
 * @example
 * for await (const { id, result } of queueResults({ job: 'shop', after: saved })) { save(result); saved = id; }
 */
export function queueResults(options?: import('./queue/api.js').ResultsOptions): ReturnType<QueueApi['queueResults']> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* (await queueApi()).queueResults(options);
    },
  };
}

/** Deletes a job's final rows up to and including `through` (a row's `id`), once they are kept elsewhere. Resolves with how many. */
export async function trimResults(options: import('./queue/api.js').QueueTarget & { through: string }): ReturnType<QueueApi['trimResults']> {
  return (await queueApi()).trimResults(options);
}

/** Deletes a job: its settings, requests and rows. Resolves with how many Redis keys it deleted. */
export async function dropJob(options?: import('./queue/api.js').QueueTarget): ReturnType<QueueApi['dropJob']> {
  return (await queueApi()).dropJob(options);
}
