import { pipeline, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { undiciRequest } from '../fetch/undici.js';
import { describeValue } from '../describe-value.js';
import { FetchError, redactUrl, type ErrorCode } from '../errors.js';
import { classifyError } from '../fetch/classify.js';
import { contentCodings } from '../fetch/content-encoding.js';
import { nextHop, REDIRECT_STATUSES } from '../fetch/redirects.js';
import { lazyBuiltin } from '../lazy-builtin.js';
import { parseLastmod } from './lastmod.js';
import { sitemapsInRobots } from './robots-sitemaps.js';
import { canonicalKey, inScope } from './scope.js';
import { readSitemap } from './sitemap.js';
import { SitemapError } from './sitemap-types.js';

const zlib = lazyBuiltin('node:zlib');

/** What `sitemapSeeds()` yields, in document order, as it reads. */
export type SitemapSeed =
  /** An entry of a `<urlset>` or a text sitemap; `url` is the `<loc>` as written (not validated), `sitemap` the file it came from. */
  | { kind: 'seed'; url: string; lastmod: string | null; sitemap: string }
  /** A sitemap (or robots.txt) that could not be fetched or read: a row of its own. Entries read before it stay yielded. */
  | { kind: 'failure'; url: string; code: ErrorCode; message: string }
  /** Something the user should know that is not a failure: a file cut at a protocol limit, nesting too deep, entries dropped. */
  | { kind: 'warning'; message: string }
  /** An entry left out by the options, for the summary's counts. */
  | { kind: 'skipped'; url: string; reason: 'other-host' | 'older' };

export interface SitemapSeedOptions {
  /** The run's dispatcher; requests never go through undici's global one. */
  dispatcher: Dispatcher;
  /**
   * A deadline per sitemap file, from its request to the last byte of its body, redirects included. The body is
   * read as the consumer takes seeds, so time the consumer holds a seed counts too: drain promptly.
   */
  timeoutMs: number;
  /** The run's cancel: stops at once, with no row for the sitemap being read. */
  signal: AbortSignal;
  /** Request headers (user-agent etc.); any Accept-Encoding is replaced by `gzip`. */
  headers: Record<string, string>;
  /** Redirects followed per sitemap file; one more is TOO_MANY_REDIRECTS. */
  maxRedirects: number;
  /** Keep entries on other hosts than their sitemap's final URL (`--scope all`); else they are skipped as `other-host`. */
  allHosts: boolean;
  /** Epoch ms (`--newer-than`): entries whose lastmod is not later are skipped as `older`; no or unreadable lastmod is kept. */
  newerThan: number | null;
}

/**
 * Sitemap indexes nested deeper than this are not fetched: a `--sitemap` URL is level 0, the children of an index
 * one level more. Google reads no nesting at all (an index may not list indexes); three levels leaves room for
 * real sites while a hostile chain of indexes cannot grow without bound.
 */
export const MAX_SITEMAP_NESTING = 3;

/** Bytes of a robots.txt read for its `Sitemap:` lines; the rest is ignored, as RFC 9309 §2.5 lets crawlers do (Google: 500 KiB). */
export const ROBOTS_MAX_BYTES = 512 * 1024;

type Request = typeof import('undici').request;
type Body = Dispatcher.ResponseData['body'];

interface Run extends SitemapSeedOptions {
  request: Request;
  /** canonicalKey of every sitemap URL requested in this call, redirect targets included. */
  fetched: Set<string>;
}

/** An open 2xx response: where it came from after redirects, and its body with Content-Encoding undone. */
interface Opened {
  url: URL;
  raw: Body;
  bytes: AsyncIterable<Uint8Array>;
}

/**
 * Turns `--sitemap` URLs into crawl seeds, streamed: each URL is a sitemap (`<urlset>`), a sitemap index (its
 * children read in turn, depth-first in document order, at most MAX_SITEMAP_NESTING deep), a text sitemap, or,
 * when its path ends in `/robots.txt`, a robots.txt whose `Sitemap:` lines are each read as a sitemap. Seeds are
 * yielded as they are parsed; a sitemap that cannot be fetched or parsed yields one `failure` and reading goes on
 * with the next. Each sitemap URL is requested at most once per call (duplicates and loops end quietly).
 *
 * Decisions: a `<loc>` is passed on as written, even when it is not an http(s) URL, so that the pipeline reports it
 * as a row (INVALID_URL, UNSUPPORTED_SCHEME) instead of it vanishing. "Another host" is scope.ts's `host` rule (host
 * name, any scheme or port) against the sitemap's URL after redirects; child sitemaps are fetched wherever they
 * are (cross-host sitemaps are allowed by robots.txt submission) and `newerThan` does not prune them by the
 * index's `<lastmod>`. Only a `--sitemap` URL can be a robots.txt; a sitemap listed anywhere is read as a sitemap.
 * Content-Encoding other than gzip is a DECODE failure; a `SitemapError` (XML, root or gzip file) is PARSE.
 *
 * Options are validated at the first `next()` (a TypeError naming the option); nothing else throws.
 */
export async function* sitemapSeeds(sitemaps: readonly string[], options: SitemapSeedOptions): AsyncGenerator<SitemapSeed, void, undefined> {
  validate(sitemaps, options);
  if (options.signal.aborted) return;
  const request = undiciRequest();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers)) if (name.toLowerCase() !== 'accept-encoding') headers[name] = value;
  headers['accept-encoding'] = 'gzip';
  const run: Run = { ...options, headers, request, fetched: new Set() };
  for (const listed of sitemaps) {
    const url = httpUrl(listed);
    if (url instanceof FetchError) yield failure(listed, url);
    else if (url.pathname.endsWith('/robots.txt')) yield* fromRobots(run, url);
    else yield* fromSitemap(run, url, 0);
    if (run.signal.aborted) return;
  }
}

/** One robots.txt: its `Sitemap:` values, resolved against where it was read from, each read as a level-0 sitemap. */
async function* fromRobots(run: Run, url: URL): AsyncGenerator<SitemapSeed, void, undefined> {
  let text: string;
  let base = url;
  const attempt = await start(run, url);
  if (attempt === null) return;
  if ('failure' in attempt) {
    yield attempt.failure;
    return;
  }
  const { opened, deadline } = attempt;
  try {
    base = opened.url;
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for await (const chunk of opened.bytes) {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes >= ROBOTS_MAX_BYTES) break;
    }
    text = new TextDecoder().decode(Buffer.concat(chunks).subarray(0, ROBOTS_MAX_BYTES));
    // A cut file may end in half a line: half a URL is not a sitemap.
    if (bytes > ROBOTS_MAX_BYTES) text = text.slice(0, text.lastIndexOf('\n') + 1);
  } catch (error) {
    if (!run.signal.aborted) yield failure(url.href, toFetchError(error, deadline, run));
    return;
  } finally {
    opened.raw.destroy();
  }
  const listed = sitemapsInRobots(text);
  if (listed.length === 0) yield { kind: 'warning', message: `${redactUrl(url.href)} lists no Sitemap: lines` };
  for (const value of listed) {
    const child = httpUrl(value, base);
    if (child instanceof FetchError) yield failure(value, child);
    else yield* fromSitemap(run, child, 0);
    if (run.signal.aborted) return;
  }
}

/**
 * One sitemap file, then (for an index) its children. An index's child list is read whole before any child is
 * fetched (at most 50,000 locs, the protocol's limit), so the index's connection and deadline are not held while
 * its children are read; the order of the seeds is the same as reading the children in place.
 */
async function* fromSitemap(run: Run, url: URL, level: number): AsyncGenerator<SitemapSeed, void, undefined> {
  const attempt = await start(run, url);
  if (attempt === null) return;
  if ('failure' in attempt) {
    yield attempt.failure;
    return;
  }
  const { opened, deadline } = attempt;
  const children: string[] = [];
  const dropped = new Map<string, { count: number; example: string }>();
  let broken: SitemapSeed | null = null;
  try {
    for await (const event of readSitemap(opened.bytes)) {
      if (run.signal.aborted) return;
      if (!('message' in event)) {
        if (event.kind === 'url') yield admit(event.loc, event.lastmod, url.href, opened.url, run);
        else children.push(event.loc);
      } else if (event.kind === 'cut') yield { kind: 'warning', message: `${redactUrl(url.href)}: ${event.message}` };
      else {
        const seen = dropped.get(event.reason) ?? { count: 0, example: event.message };
        seen.count += 1;
        dropped.set(event.reason, seen);
      }
    }
  } catch (error) {
    if (run.signal.aborted) return;
    const cause = error instanceof SitemapError ? new FetchError('PARSE', error.message, { cause: error }) : toFetchError(error, deadline, run);
    broken = failure(url.href, cause);
  } finally {
    opened.raw.destroy();
  }
  for (const { count, example } of dropped.values()) {
    yield { kind: 'warning', message: `${redactUrl(url.href)}: ${count} ${count === 1 ? 'entry' : 'entries'} dropped (${example})` };
  }
  if (broken) yield broken;
  for (const loc of children) {
    const child = httpUrl(loc, opened.url);
    if (child instanceof FetchError) yield failure(loc, child);
    else if (level + 1 > MAX_SITEMAP_NESTING) {
      yield { kind: 'warning', message: `${redactUrl(child.href)} not read: sitemap indexes nested more than ${MAX_SITEMAP_NESTING} deep (listed in ${redactUrl(url.href)})` };
    } else yield* fromSitemap(run, child, level + 1);
    if (run.signal.aborted) return;
  }
}

/** A parsed entry as a seed, or skipped by host or age. URLs that do not parse as http(s) pass: the pipeline reports them. */
function admit(loc: string, lastmod: string | null, sitemap: string, finalUrl: URL, run: Run): SitemapSeed {
  if (!run.allHosts) {
    const page = URL.canParse(loc) ? new URL(loc) : null;
    if (page && (page.protocol === 'http:' || page.protocol === 'https:') && !inScope(page, finalUrl, 'host')) return { kind: 'skipped', url: loc, reason: 'other-host' };
  }
  if (run.newerThan !== null && lastmod !== null) {
    const at = parseLastmod(lastmod);
    if (at !== null && at <= run.newerThan) return { kind: 'skipped', url: loc, reason: 'older' };
  }
  return { kind: 'seed', url: loc, lastmod, sitemap };
}

type Attempt = { opened: Opened; deadline: AbortSignal } | { failure: SitemapSeed };

/**
 * Marks `url` fetched and opens it under a fresh deadline. Null when there is nothing to report: it was read in this
 * call already, the run was cancelled, or a redirect led to a sitemap already requested in this call.
 */
async function start(run: Run, url: URL): Promise<Attempt | null> {
  const key = canonicalKey(url);
  if (run.fetched.has(key)) return null;
  run.fetched.add(key);
  const deadline = AbortSignal.timeout(run.timeoutMs);
  const signal = AbortSignal.any([run.signal, deadline]);
  try {
    const opened = await open(run, url, signal);
    if (opened === null) return null;
    if (opened instanceof FetchError) return { failure: failure(url.href, opened) };
    return { opened, deadline };
  } catch (error) {
    return run.signal.aborted ? null : { failure: failure(url.href, toFetchError(error, deadline, run)) };
  }
}

/** GET with redirects followed one hop at a time (fetch/redirects.ts's rules); a non-2xx answer is HTTP_STATUS. */
async function open(run: Run, first: URL, signal: AbortSignal): Promise<Opened | FetchError | null> {
  const chain = new Set([canonicalKey(first)]);
  let url = first;
  let headers = run.headers;
  for (let hops = 0; ; hops++) {
    const response = await run.request(url, { method: 'GET', headers, signal, dispatcher: run.dispatcher });
    const { statusCode, body } = response;
    // Destroying a body before its end makes undici emit an 'error' (UND_ERR_ABORTED): every early close here is
    // deliberate, and reading errors reach the reader through its iterator, so this listener only keeps the
    // process from an uncaught exception.
    body.on('error', ignore);
    const location = header(response.headers, 'location');
    if (REDIRECT_STATUSES.has(statusCode) && location !== null) {
      await discard(body, signal);
      if (hops >= run.maxRedirects) return new FetchError('TOO_MANY_REDIRECTS', `more than ${run.maxRedirects} redirects`, { status: statusCode });
      const hop = nextHop(url, location, headers);
      if (hop instanceof FetchError) return hop;
      const key = canonicalKey(hop.url);
      if (run.fetched.has(key) && !chain.has(key)) return null; // read (or to be read) under its own name
      run.fetched.add(key);
      chain.add(key);
      ({ url, headers } = hop);
      continue;
    }
    if (statusCode < 200 || statusCode > 299) {
      await discard(body, signal);
      return new FetchError('HTTP_STATUS', `the server answered HTTP ${statusCode}`, { status: statusCode });
    }
    const codings = contentCodings(header(response.headers, 'content-encoding'));
    if (codings.length === 0) return { url, raw: body, bytes: body };
    if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return { url, raw: body, bytes: gunzip(body) };
    body.destroy();
    return new FetchError('DECODE', `unsupported Content-Encoding ${JSON.stringify(codings.join(', '))} (gzip was asked for)`);
  }
}

/**
 * The Content-Encoding layer undone by a node:zlib gunzip stream; readSitemap then sniffs what is inside (a `.gz`
 * file served with Content-Encoding: gzip is gzip twice). Errors of the body and of the gzip data pass through as
 * thrown (classifyError makes a zlib code DECODE). The gunzip stream settles on every path: it ends, errors, or is
 * destroyed when the reader stops early, and then pipeline() destroys the body.
 */
async function* gunzip(body: Readable): AsyncGenerator<Uint8Array, void, undefined> {
  const stream = zlib().createGunzip();
  pipeline(body, stream, () => {});
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } finally {
    stream.destroy();
  }
}

/** Reads and drops a small body so its connection can be reused; a large or stalled one is cut. */
async function discard(body: Body, signal: AbortSignal): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024, signal });
  } catch {
    body.destroy();
  }
}

function ignore(): void {}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/** A listed URL resolved (against the file that listed it) and checked for http(s), or the failure it is. */
function httpUrl(value: string, base?: URL): URL | FetchError {
  if (!URL.canParse(value, base?.href)) return new FetchError('INVALID_URL', `not a URL: ${JSON.stringify(redactUrl(value))}`);
  const url = new URL(value, base);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return new FetchError('UNSUPPORTED_SCHEME', `not an http or https URL: ${redactUrl(url.href)}`);
  url.hash = '';
  return url;
}

function toFetchError(error: unknown, deadline: AbortSignal, run: Run): FetchError {
  return classifyError(error, { timedOut: deadline.aborted, cancelled: run.signal.aborted, timeoutMs: run.timeoutMs });
}

function failure(url: string, error: FetchError): SitemapSeed {
  return { kind: 'failure', url, code: error.code, message: `sitemap ${redactUrl(url)} could not be read: ${error.message}` };
}

function validate(sitemaps: readonly string[], options: SitemapSeedOptions): void {
  if (!Array.isArray(sitemaps) || !sitemaps.every((s) => typeof s === 'string')) {
    throw new TypeError(`Expected \`sitemaps\` to be an array of URL strings, got ${describeValue(sitemaps, 200)}`);
  }
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected \`options\` to be an object, got ${describeValue(options)}`);
  const o = options;
  if (typeof (o.dispatcher as { dispatch?: unknown } | null)?.dispatch !== 'function') {
    throw new TypeError(`Expected \`dispatcher\` to be an undici Dispatcher, got ${describeValue(o.dispatcher, 80)}`);
  }
  if (!Number.isSafeInteger(o.timeoutMs) || o.timeoutMs < 1 || o.timeoutMs > 2_147_483_647) {
    throw new TypeError(`Expected \`timeoutMs\` to be an integer from 1 to 2147483647, got ${describeValue(o.timeoutMs)}`);
  }
  if (!(o.signal instanceof AbortSignal)) throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(o.signal, 80)}`);
  if (typeof o.headers !== 'object' || o.headers === null || !Object.values(o.headers).every((v) => typeof v === 'string')) {
    throw new TypeError(`Expected \`headers\` to be an object of strings, got ${describeValue(o.headers, 200)}`);
  }
  if (!Number.isSafeInteger(o.maxRedirects) || o.maxRedirects < 0) {
    throw new TypeError(`Expected \`maxRedirects\` to be an integer from 0 and up, got ${describeValue(o.maxRedirects)}`);
  }
  if (typeof o.allHosts !== 'boolean') throw new TypeError(`Expected \`allHosts\` to be a boolean, got ${describeValue(o.allHosts)}`);
  if (o.newerThan !== null && !Number.isFinite(o.newerThan)) {
    throw new TypeError(`Expected \`newerThan\` to be epoch milliseconds or null, got ${describeValue(o.newerThan)}`);
  }
}
