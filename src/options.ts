import { normalizeFollow, type FollowOptions, type NormalizedFollow } from './crawl/follow-options.js';
import type { Dispatcher } from './fetch/undici.js';
import { availableParallelism } from 'node:os';
import { normalizeExtract, type ExtractSpec, type NormalizedExtract } from './parse/spec.js';
import { VERSION } from './version.js';
import { describeValue } from './describe-value.js';
import { normalizeTls, type NormalizedTls, type TlsOptions } from './fetch/tls.js';
import { parseAccept, type AcceptSpec, type StatusPredicate } from './schedule/accept.js';

/** What an earlier run stored for a URL (its result's `etag` and `lastModified`). */
export interface StoredValidators {
  etag?: string | null;
  lastModified?: string | null;
  /** With `save`: the file that run wrote, repeated on a 304 (the body it holds is still current). */
  savedAs?: string;
  sha256?: string;
}

export type Validators = Map<string, StoredValidators> | ((url: string) => StoredValidators | undefined);
import type { BodyForm } from './keep/body-form.js';
import { DEFAULT_SAVE_NAME, SaveNamer } from './keep/save-name.js';

export type { BodyForm } from './keep/body-form.js';

/** The `save` option: where 2xx bodies are written. */
export interface SaveOptions {
  /** The directory; created when missing. Nothing is ever written outside it. */
  dir: string;
  /**
   * The file name template, relative to `dir`: `{host}`, `{path}`, `{sha256}`, `{index}` (the URL's place in the
   * input, from 0), `{ext}`. Checked at start-up. @default '{host}/{path}'
   */
  name?: string;
  /**
   * Names an earlier run already gave (its rows' `savedAs`, when resuming): never given to another URL, so a
   * resumed run cannot overwrite an earlier run's file with a different URL's body.
   */
  existing?: Iterable<string>;
}

/** The `warc` option in full. */
export interface WarcOptions {
  /** The WARC file. */
  path: string;
  /** One gzip member per record. @default path.endsWith('.gz') */
  gzip?: boolean;
  /** Add to an existing file (a resumed run) after cutting off a record a killed run left torn. @default false */
  append?: boolean;
}
import { METHODS, type Method } from './source/requests.js';

/** Counters handed to `onProgress` after every finished URL and on every host pause. */
export interface Progress {
  /** URLs taken from the source so far (a file's total is unknown until it is read to the end). */
  started: number;
  /** URLs with a final result. */
  done: number;
  ok: number;
  failed: number;
  /** URLs taken and not finished: waiting for a slot, on the wire, backing off or being parsed. */
  inFlight: number;
  /** Requests on the wire right now. */
  active: number;
  /** Hosts paused by a `Retry-After` right now. */
  pausedHosts: number;
}

/** Options of {@link fetchAll} and {@link fetchEach}. Every field is optional. */
export interface VolleyOptions {
  /** Most requests in flight at once, over all hosts. @default 50 */
  concurrency?: number;
  /** Most requests in flight at once to one host (hostname:port). @default 8 */
  perHost?: number;
  /** One total deadline per attempt, in ms: connect, headers and the whole body. @default 20000 */
  timeoutMs?: number;
  /** Retries after the first attempt, on connection errors, timeouts, 408/429/500/502/503/504/522/524. @default 2 */
  retries?: number;
  /** First backoff before a retry, in ms; doubled on each retry, with jitter. @default 1000 */
  retryBaseMs?: number;
  /** Longest `Retry-After` honoured, in ms; a longer one ends the retries for that URL. @default 60000 */
  maxRetryAfterMs?: number;
  /** Redirects followed before a result fails with TOO_MANY_REDIRECTS. @default 10 */
  maxRedirects?: number;
  /** Largest body kept, in bytes, counted after decompression. @default 10485760 (10 MiB) */
  maxBytes?: number;
  /**
   * The method of every URL string, and of every request object that does not name its own: GET, HEAD, POST, PUT,
   * PATCH, DELETE or OPTIONS (case-insensitive). `HEAD` is for link checks (falls back to GET on 405/501; no body,
   * no parsing). POST and PATCH are retried only when safe (see `retryUnsafe`). @default 'GET'
   */
  method?: Method;
  /** Extra request headers, sent on every request (robots.txt included). */
  headers?: Record<string, string>;
  /** The User-Agent header, and the product token matched in robots.txt. @default 'volley/VERSION' */
  userAgent?: string;
  /** Aborting it cancels the run: in-flight requests aborted, unfinished URLs come back as CANCELLED. */
  signal?: AbortSignal;
  /**
   * The undici Dispatcher requests go through. Default: a keep-alive undici `Agent` owned by the run and closed
   * when it ends; an `EnvHttpProxyAgent` instead when `proxy` or HTTP_PROXY/HTTPS_PROXY is set (NO_PROXY is then
   * honoured). Never the global dispatcher.
   */
  dispatcher?: Dispatcher;
  /** A proxy for every request (`http://host:port`); overrides the environment variables. Ignored when `dispatcher` is given. */
  proxy?: string;
  /** What to pull out of HTML pages, in worker threads; `false` skips parsing. @default { title: true, description: true } */
  extract?: ExtractSpec | false;
  /**
   * The most worker threads that parse HTML. One starts (with the run's second URL); the others when parsing is the
   * run's work: at the first page of 32 KiB or more, once the one thread is busy half the time, or when pages wait
   * behind a page it has parsed for 250 ms.
   * @default os.availableParallelism()
   */
  threads?: number;
  /**
   * Longest a single page may spend in the parser before it fails with PARSE, in ms: each page's own, from when its
   * thread starts it (pages travel to the threads in batches; neither the wait nor the pages before it count). The
   * thread fails a late page between two pieces of it and goes on; one stuck past it in a single step (a
   * selector's run) is stopped with its thread, which is replaced, up to 100 ms later.
   * @default 10000
   */
  parseTimeoutMs?: number;
  /** At most this many requests per second to one host (fractions allowed). @default unlimited */
  perHostRate?: number;
  /** At least this many ms between the starts of two requests to one host. @default 0 */
  perHostDelayMs?: number;
  /**
   * Fetch each host's robots.txt once and skip what it disallows (RFC 9309); in a crawl, also do not follow the
   * links of a page that says `<meta name="robots" content="nofollow">`. @default false, but true with `follow`
   * (as `wget -r` does): pass `false` to crawl without it
   */
  respectRobots?: boolean;
  /**
   * Crawl: follow the links of every fetched HTML page (the same absolute http(s) links `extract.links` gives),
   * breadth-first, within a scope and a depth of the seed each descends from; every URL is requested at most once.
   * `true` takes every default. Rows gain `depth` and `referrer`. See FollowOptions.
   * @default undefined (no crawl: the list is fetched as given)
   */
  follow?: FollowOptions | boolean;
  /**
   * Sitemaps whose URLs are seeds (depth 0), streamed as they are read: a `<urlset>`, a `<sitemapindex>` (its
   * children read in turn, 3 deep at most), a text sitemap, or a `robots.txt` (its `Sitemap:` lines); gzip either
   * way. Entries on another host than their sitemap's are skipped unless `follow.scope` is `'all'`. Rows of sitemap
   * URLs carry `lastmod`; a sitemap that cannot be fetched or parsed is a row of its own, with `sitemap: true`.
   */
  sitemaps?: readonly string[];
  /** With `sitemaps`: keep only entries whose `<lastmod>` is later than this (entries without one are kept). */
  newerThan?: Date | number | string;
  /** Warnings a person should read (a sitemap cut at the protocol's 50,000 URLs, say). The CLI prints them on stderr. */
  onWarning?: (message: string) => void;
  /**
   * Drop repeated URLs: a URL equal to one already taken (after WHATWG parsing, the fragment dropped) is skipped
   * and gets **no result**, the one exception to "one result per input URL". `fetchEach` yields one result per
   * distinct URL, and `fetchAll` resolves to one entry per distinct URL, in the order of first appearance (no
   * holes where the repeats were). Lines that are not valid http(s) URLs are never de-duplicated: each gets its
   * own INVALID_URL or UNSUPPORTED_SCHEME result. Remembers every URL seen, so memory grows with the list.
   * @default false
   */
  dedupe?: boolean;
  /**
   * TLS for the run's connections: `{ rejectUnauthorized: false }` accepts any certificate (testing only), `ca`
   * adds trusted CA certificates (PEM) to Node's roots, `cert` + `key` a client certificate (PEM). Behind a proxy
   * they apply to the origin, not to the proxy. Ignored when `dispatcher` is given.
   * @default Node's defaults: certificates checked against Node's bundled roots
   */
  tls?: TlsOptions;
  /**
   * Offer HTTP/2 to https origins (ALPN; undici's `allowH2`): those that choose it get one multiplexed connection.
   * Off by default: undici's HTTP/2 client is younger than its HTTP/1.1 one. Ignored when `dispatcher` is given.
   * @default false
   */
  http2?: boolean;
  /**
   * Largest response header section accepted, in bytes; a larger one fails with TOO_LARGE. Node's and undici's
   * 16 KiB turns away real sites with big cookies; curl takes 100 KB. HTTP/1.1 only: over HTTP/2, Node's fixed
   * 64 KiB applies. Ignored when `dispatcher` is given.
   * @default 65536 (64 KiB)
   */
  maxHeaderSize?: number;
  /**
   * Retry POST and PATCH like GET: also after a TIMEOUT or RESET, when the server may already have acted on the
   * request. DANGEROUS: a payment or an insert may happen twice. Without it (RFC 9110 §9.2.2) they are retried
   * only when the request provably never reached the server (DNS, CONNECT, TLS) or on 429/503 with Retry-After.
   * @default false
   */
  retryUnsafe?: boolean;
  /**
   * Validators stored by an earlier run, for conditional re-fetch (RFC 9110 §13.1): a URL with an `etag` is sent
   * `If-None-Match`, one with a `lastModified` `If-Modified-Since` (both when both are known). A `304 Not
   * Modified` is then a success (`notModified: true`, nothing parsed) that carries the stored validators on.
   * Looked up by the URL as given; a redirect hop to another URL sends none. A Map, or a function.
   */
  validators?: Validators;
  /**
   * Consecutive attempts to one host (`hostname:port`) that found it unreachable (CONNECT, DNS, TLS, or TIMEOUT
   * before any response head) after which its circuit breaker opens: its waiting and later URLs end at once as
   * HOST_SKIPPED, never requested, until a probe gets through (see `hostCooldownMs`). Any response, whatever its
   * status, resets the count; a malformed response or a reset (RESET) neither counts nor resets it. 0 turns it off.
   * @default 10
   */
  maxHostErrors?: number;
  /**
   * How long a host whose breaker opened (`maxHostErrors`) is skipped before one request goes out as a probe (the
   * others still fail fast). A probe that gets any response closes the breaker and the host is fetched again; one
   * that finds the host still unreachable doubles the cool-down, up to 10 minutes (or this, when longer).
   * @default 30000
   */
  hostCooldownMs?: number;
  /**
   * The statuses counted as ok: `'200..299,304,403'` or `[200, [300, 399]]`. Others fail as HTTP_STATUS. Only 2xx
   * bodies are parsed. 304 is added when validators were sent for the URL.
   * @default '200..299'
   */
  accept?: AcceptSpec;
  /**
   * Most bytes held between fetching and the consumer: bodies waiting for or inside the parser, and results not
   * yet taken (each counted by its body's size). While they are at or above this, no new request starts, so
   * fetching slows to the pace of the parser and of the consumer instead of filling memory. Requests already on
   * the wire still land, so the bytes held can pass it by up to `concurrency` bodies; a body larger than the whole
   * budget is fetched when nothing else is held, and goes through alone. 32 MiB holds three bodies at the
   * `maxBytes` cap, or thousands of ordinary pages, which keeps every parse thread fed, at a small fraction of
   * what a crawl host has; Scrapy's equivalent (`SCRAPER_SLOT_MAX_ACTIVE_SIZE`) is 5 MB.
   * @default 33554432 (32 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Add `headers` to each result: the final response's header fields, names lower-cased, a repeated field as an
   * array (so `set-cookie` stays whole). Not called `headers`, which is the request headers. (CLI: `--headers`.)
   * @default false
   */
  responseHeaders?: boolean;
  /**
   * Keep each 2xx body in its result: `'text'` as `body`, a string decoded as HTML is (BOM, Content-Type charset,
   * `<meta>` prescan for HTML, UTF-8 for JSON and other types, windows-1252 last); `'bytes'` as `body`, a
   * Uint8Array of the decompressed body; `'json'` as `json`, the body parsed when the response is JSON (else
   * `json: null`; a JSON response that does not parse fails with PARSE). A kept body counts against
   * `maxBufferedBytes` until the consumer takes its result.
   * @default undefined (no body kept)
   */
  body?: BodyForm;
  /**
   * Write each 2xx body to a file under `dir`, named by `name` (default `{host}/{path}`), atomically (a temporary
   * file renamed into place); the result gets `savedAs` and `sha256` once the file is complete. A file that cannot
   * be written makes that result fail with WRITE; the run goes on.
   */
  save?: SaveOptions;
  /**
   * Write every response received (redirect hops and error statuses included) to a WARC/1.1 file as a `request`
   * and a `response` record: a path, or `{ path, gzip, append }`. A result is yielded only once its records are
   * written; a record that cannot be written makes that result fail with WRITE.
   */
  warc?: string | WarcOptions;
  /** Called after every finished URL. Must not throw. */
  onProgress?: (progress: Progress) => void;
}

/** Options after validation, with every default filled in. Everything past the edge takes only this type. */
export interface NormalizedOptions {
  concurrency: number;
  perHost: number;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  maxRetryAfterMs: number;
  maxRedirects: number;
  maxBytes: number;
  method: Method;
  headers: Record<string, string>;
  userAgent: string;
  signal: AbortSignal | undefined;
  dispatcher: Dispatcher | undefined;
  proxy: string | undefined;
  extract: NormalizedExtract | null;
  threads: number;
  parseTimeoutMs: number;
  perHostRate: number;
  perHostDelayMs: number;
  respectRobots: boolean;
  /** null: not a crawl (a run with `sitemaps` only is one, that follows no links). */
  follow: NormalizedFollow | null;
  sitemaps: string[];
  /** Epoch ms, or null. */
  newerThan: number | null;
  onWarning: ((message: string) => void) | undefined;
  dedupe: boolean;
  /** null: Node's TLS defaults. */
  tls: NormalizedTls | null;
  http2: boolean;
  maxHeaderSize: number;
  retryUnsafe: boolean;
  validators: ((url: string) => StoredValidators | undefined) | null;
  maxHostErrors: number;
  hostCooldownMs: number;
  accept: StatusPredicate;
  maxBufferedBytes: number;
  responseHeaders: boolean;
  body: BodyForm | null;
  /** `name` is a checked template; `existing`, the names already taken. */
  save: { dir: string; name: string; existing: string[] } | null;
  warc: { path: string; gzip: boolean; append: boolean } | null;
  onProgress: ((progress: Progress) => void) | undefined;
}

/** An option error names the option as data, so the CLI can say which flag the user typed without reading the message. */
export type OptionError = (TypeError | RangeError) & { option: string };

function optionError(error: TypeError | RangeError, option: string): OptionError {
  return Object.assign(error, { option });
}

/** setTimeout overflows past this and fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

export const DEFAULTS = {
  concurrency: 50,
  perHost: 8,
  timeoutMs: 20_000,
  retries: 2,
  retryBaseMs: 1_000,
  maxRetryAfterMs: 60_000,
  maxRedirects: 10,
  maxBytes: 10 * 1024 * 1024,
  method: 'GET',
  maxHeaderSize: 64 * 1024,
  parseTimeoutMs: 10_000,
  maxBufferedBytes: 32 * 1024 * 1024,
  maxHostErrors: 10,
  hostCooldownMs: 30_000,
  accept: '200..299',
} as const;

export const DEFAULT_USER_AGENT = `volley/${VERSION}`;

const show = (value: unknown): string => describeValue(value);

function integer(name: string, value: unknown, fallback: number, min: number, max = MAX_TIMER_MS): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw optionError(new RangeError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got ${show(value)}`), name);
  }
  return value;
}

function positiveNumber(name: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw optionError(new RangeError(`Expected \`${name}\` to be a number above 0, got ${show(value)}`), name);
  }
  return value;
}

function boolean(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw optionError(new TypeError(`Expected \`${name}\` to be a boolean, got ${show(value)}`), name);
  return value;
}

function stringList(name: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw optionError(new TypeError(`Expected \`${name}\` to be an array of strings, got ${show(value)}`), name);
  return [...value] as string[];
}

/** A moment as epoch ms: a Date, epoch ms, or an ISO 8601 date or date-time (a date alone is midnight UTC). */
function instant(name: string, value: unknown): number | null {
  if (value === undefined) return null;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : typeof value === 'string' && ISO_8601.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw optionError(new TypeError(`Expected \`${name}\` to be a Date, epoch ms or an ISO 8601 date (2026-12-01, 2026-12-01T06:00:00Z), got ${show(value)}`), name);
  return ms;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function callback<F>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw optionError(new TypeError(`Expected \`${name}\` to be a function, got ${show(value)}`), name);
  return value as F;
}

function headerRecord(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw optionError(new TypeError(`Expected \`headers\` to be an object of strings, got ${show(value)}`), 'headers');
  }
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw optionError(new TypeError(`Expected header \`${name}\` to be a string, got ${show(v)}`), 'headers');
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw optionError(new TypeError(`Expected a valid header name, got ${show(name)}`), 'headers');
    out[name.toLowerCase()] = v;
  }
  return out;
}

function extractSpec(spec: ExtractSpec | undefined): NormalizedExtract {
  try {
    return normalizeExtract(spec);
  } catch (err) {
    throw err instanceof TypeError || err instanceof RangeError ? optionError(err, 'extract') : err;
  }
}

function validatorsOption(value: unknown): NormalizedOptions['validators'] {
  if (value === undefined) return null;
  if (value instanceof Map) return (url) => value.get(url) as StoredValidators | undefined;
  if (typeof value === 'function') return value as (url: string) => StoredValidators | undefined;
  throw optionError(new TypeError(`Expected \`validators\` to be a Map or a function of the URL, got ${show(value)}`), 'validators');
}

function acceptOption(value: unknown): StatusPredicate {
  try {
    return parseAccept((value ?? DEFAULTS.accept) as AcceptSpec);
  } catch (err) {
    throw err instanceof RangeError || err instanceof TypeError ? optionError(err, 'accept') : err;
  }
}

function tlsOption(value: unknown): NormalizedTls | null {
  try {
    return normalizeTls(value);
  } catch (err) {
    throw err instanceof TypeError ? optionError(err, 'tls') : err;
  }
}

const BODY_FORMS: readonly BodyForm[] = ['text', 'bytes', 'json'];

function bodyForm(value: unknown): BodyForm | null {
  if (value === undefined) return null;
  if (!BODY_FORMS.includes(value as BodyForm)) {
    throw optionError(new TypeError(`Expected \`body\` to be 'text', 'bytes' or 'json', got ${show(value)}`), 'body');
  }
  return value as BodyForm;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function saveOption(value: unknown): NormalizedOptions['save'] {
  if (value === undefined) return null;
  if (!isPlainObject(value) || typeof value.dir !== 'string' || value.dir.trim() === '') {
    throw optionError(new TypeError(`Expected \`save\` to be { dir, name? } with a non-empty \`dir\`, got ${show(value)}`), 'save');
  }
  const name = value.name === undefined ? DEFAULT_SAVE_NAME : value.name;
  try {
    // Checked here, so a bad template fails at start-up; each run makes its own namer.
    void new SaveNamer(name as string);
  } catch (err) {
    throw err instanceof TypeError ? optionError(err, 'save') : err;
  }
  const existing = value.existing === undefined ? [] : value.existing;
  if (typeof existing !== 'object' || existing === null || typeof (existing as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw optionError(new TypeError(`Expected \`save.existing\` to be an Iterable of relative paths, got ${show(existing)}`), 'save');
  }
  return { dir: value.dir, name: name as string, existing: [...(existing as Iterable<unknown>)].filter((p): p is string => typeof p === 'string') };
}

function warcOption(value: unknown): NormalizedOptions['warc'] {
  if (value === undefined) return null;
  const o = typeof value === 'string' ? { path: value } : value;
  if (!isPlainObject(o) || typeof o.path !== 'string' || o.path.trim() === '') {
    throw optionError(new TypeError(`Expected \`warc\` to be a file path or { path, gzip?, append? }, got ${show(value)}`), 'warc');
  }
  for (const key of ['gzip', 'append'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') {
      throw optionError(new TypeError(`Expected \`warc.${key}\` to be a boolean, got ${show(o[key])}`), 'warc');
    }
  }
  return { path: o.path, gzip: (o.gzip as boolean | undefined) ?? o.path.endsWith('.gz'), append: (o.append as boolean | undefined) ?? false };
}

/** Validates user options once, at the edge; messages name the option and echo the bad value and its type. */
export function normalizeOptions(options: VolleyOptions = {}): NormalizedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const o = options;
  const method = (typeof o.method === 'string' ? o.method.toUpperCase() : (o.method ?? DEFAULTS.method)) as Method;
  if (!(METHODS as readonly unknown[]).includes(method)) {
    throw optionError(new RangeError(`Expected \`method\` to be one of ${METHODS.join(', ')}, got ${show(o.method)}`), 'method');
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw optionError(new TypeError(`Expected \`signal\` to be an AbortSignal, got ${show(o.signal)}`), 'signal');
  }
  if (o.dispatcher !== undefined && (typeof o.dispatcher !== 'object' || typeof (o.dispatcher as Dispatcher).dispatch !== 'function')) {
    throw optionError(new TypeError(`Expected \`dispatcher\` to be an undici Dispatcher, got ${show(o.dispatcher)}`), 'dispatcher');
  }
  if (o.proxy !== undefined) {
    let ok = false;
    try {
      ok = typeof o.proxy === 'string' && /^https?:$/.test(new URL(o.proxy).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw optionError(new TypeError(`Expected \`proxy\` to be an http(s) URL such as http://proxy:3128, got ${show(o.proxy)}`), 'proxy');
  }
  if (o.userAgent !== undefined && (typeof o.userAgent !== 'string' || o.userAgent.trim() === '')) {
    throw optionError(new TypeError(`Expected \`userAgent\` to be a non-empty string, got ${show(o.userAgent)}`), 'userAgent');
  }
  const concurrency = integer('concurrency', o.concurrency, DEFAULTS.concurrency, 1, 100_000);
  let follow: NormalizedFollow | null;
  try {
    follow = normalizeFollow(o.follow);
  } catch (err) {
    throw err instanceof TypeError || err instanceof RangeError ? optionError(err, 'follow') : err;
  }
  // A crawl reads pages for their links: a HEAD or POST run has none to follow.
  if (follow !== null && method !== 'GET') throw optionError(new TypeError(`Expected \`method\` to be GET in a crawl (\`follow\`), got ${show(method)}`), 'method');
  return {
    concurrency,
    perHost: integer('perHost', o.perHost, DEFAULTS.perHost, 1, 100_000),
    timeoutMs: integer('timeoutMs', o.timeoutMs, DEFAULTS.timeoutMs, 1),
    retries: integer('retries', o.retries, DEFAULTS.retries, 0, 100),
    retryBaseMs: integer('retryBaseMs', o.retryBaseMs, DEFAULTS.retryBaseMs, 0),
    maxRetryAfterMs: integer('maxRetryAfterMs', o.maxRetryAfterMs, DEFAULTS.maxRetryAfterMs, 0),
    maxRedirects: integer('maxRedirects', o.maxRedirects, DEFAULTS.maxRedirects, 0, 100),
    maxBytes: integer('maxBytes', o.maxBytes, DEFAULTS.maxBytes, 1, Number.MAX_SAFE_INTEGER),
    method,
    headers: headerRecord(o.headers),
    userAgent: o.userAgent ?? DEFAULT_USER_AGENT,
    signal: o.signal,
    dispatcher: o.dispatcher,
    proxy: o.proxy,
    extract: o.extract === false ? null : extractSpec(o.extract),
    threads: integer('threads', o.threads, Math.max(1, availableParallelism()), 1, 1024),
    parseTimeoutMs: integer('parseTimeoutMs', o.parseTimeoutMs, DEFAULTS.parseTimeoutMs, 1),
    perHostRate: positiveNumber('perHostRate', o.perHostRate),
    perHostDelayMs: integer('perHostDelayMs', o.perHostDelayMs, 0, 0),
    respectRobots: follow !== null && o.respectRobots === undefined ? true : boolean('respectRobots', o.respectRobots),
    follow,
    sitemaps: stringList('sitemaps', o.sitemaps),
    newerThan: instant('newerThan', o.newerThan),
    onWarning: callback('onWarning', o.onWarning),
    dedupe: boolean('dedupe', o.dedupe),
    tls: tlsOption(o.tls),
    http2: boolean('http2', o.http2),
    maxHeaderSize: integer('maxHeaderSize', o.maxHeaderSize, DEFAULTS.maxHeaderSize, 1024, 16 * 1024 * 1024),
    retryUnsafe: boolean('retryUnsafe', o.retryUnsafe),
    validators: validatorsOption(o.validators),
    maxHostErrors: integer('maxHostErrors', o.maxHostErrors, DEFAULTS.maxHostErrors, 0, 1_000_000),
    hostCooldownMs: integer('hostCooldownMs', o.hostCooldownMs, DEFAULTS.hostCooldownMs, 1),
    accept: acceptOption(o.accept),
    maxBufferedBytes: integer('maxBufferedBytes', o.maxBufferedBytes, DEFAULTS.maxBufferedBytes, 1, Number.MAX_SAFE_INTEGER),
    responseHeaders: boolean('responseHeaders', o.responseHeaders),
    body: bodyForm(o.body),
    save: saveOption(o.save),
    warc: warcOption(o.warc),
    onProgress: callback('onProgress', o.onProgress),
  };
}
