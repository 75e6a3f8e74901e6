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
