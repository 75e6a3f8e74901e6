import type { CrawlRequest } from '../frontier/redis-crawl.js';
import type { CrawlCodec } from '../frontier/redis-frontier.js';
import { failedResult } from '../result.js';
import type { CrawlEntry, FrontierWork } from '../frontier/frontier.js';
import { canonicalKey } from '../crawl/scope.js';
import { linkItem, seedUrl } from '../crawl/follow-links.js';
import { FetchError, type ErrorCode } from '../errors.js';
import { PresetFailure } from '../source/requests.js';
import { RequestLine } from '../source/request-lines.js';
import { textOf } from '../source/url-input.js';
import type { InputItem } from '../cli/work.js';
import type { JobRun } from './job.js';
import { fromPayload, toQueueRequest } from './payload.js';

/**
 * How a crawl's requests travel through the queue (payload.ts is the plain job's). A seed or link carries its
 * frontier entry, `$crawl: { u, d, r, s, m? }` (URL key, depth, referrer, scope base, sitemap lastmod), so that any
 * worker can run it and write the row a local crawl would (depth, referrer, lastmod); a seed also carries `item`, what
 * it was given as (the plain job's payload), a link nothing more (its request is the GET a browser would send). A
 * sitemap that could not be read is `$failure: { url, code, message }`: its row is known without a request.
 */

interface CrawlPayload {
  $crawl?: { u: string; d: number; r: string | null; s: string; m?: string | null };
  item?: unknown;
  $failure?: { url: string; code: string; message: string };
}

/** A seed from the enqueuer's inputs (a URL line, a `--requests` line): not a URL to crawl goes in as a plain item. */
export function seedFromInput(item: InputItem, run: JobRun): CrawlRequest {
  const plain = toQueueRequest(item, run);
  const value = item instanceof RequestLine ? item.value : textOf(item);
  const url = value instanceof FetchError ? null : seedUrl(value);
  if (url === null) return { url: '', host: plain.host, payload: plain.payload };
  const key = canonicalKey(url);
  return { url: key, host: url.host, payload: JSON.stringify({ $crawl: { u: key, d: 0, r: null, s: url.href }, item: JSON.parse(plain.payload) as unknown } satisfies CrawlPayload) };
}

/** A sitemap's entry, with its `<lastmod>` (null when it gave none: the row says so). */
export function seedFromSitemap(raw: string, lastmod: string | null): CrawlRequest {
  const url = seedUrl(raw);
  if (url === null) return { url: '', host: '(invalid)', payload: JSON.stringify(raw) };
  const key = canonicalKey(url);
  return { url: key, host: url.host, payload: JSON.stringify({ $crawl: { u: key, d: 0, r: null, s: url.href, m: lastmod }, item: raw } satisfies CrawlPayload) };
}

/** A row known without a request: a sitemap that could not be read. */
export function failureRequest(failure: PresetFailure): CrawlRequest {
  const { input, error } = failure;
  return { url: '', host: '(sitemap)', payload: JSON.stringify({ $failure: { url: input, code: error.code, message: error.message } } satisfies CrawlPayload) };
}

/** A link found on a page, offered at `depth`. */
export function linkRequest(key: string, depth: number, page: string, scopeBase: string): CrawlRequest {
  return { url: key, host: new URL(key).host, payload: JSON.stringify({ $crawl: { u: key, d: depth, r: page, s: scopeBase } } satisfies CrawlPayload) };
}

/** A claimed payload as the frontier hands it to the pipeline. */
export function workOf(payload: string, run: JobRun | null): FrontierWork {
  let value: CrawlPayload | null = null;
  try {
    const parsed = JSON.parse(payload) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) value = parsed as CrawlPayload;
  } catch {
    // not JSON: fromPayload names it
  }
  if (value?.$failure !== undefined) {
    const f = value.$failure;
    return { item: new PresetFailure(f.url, new FetchError(f.code as ErrorCode, f.message)), entry: null, sitemap: true };
  }
  const c = value?.$crawl;
  if (c === undefined) {
    const item = fromPayload(payload, run);
    return { item: item instanceof FetchError ? new PresetFailure('', item) : item, entry: null };
  }
  const entry: CrawlEntry = { url: c.u, depth: c.d, referrer: c.r, scopeBase: c.s };
  if (c.m !== undefined) entry.lastmod = c.m;
  if (value!.item === undefined) return { item: linkItem(entry), entry };
  const item = fromPayload(JSON.stringify(value!.item), run);
  return { item: item instanceof FetchError ? new PresetFailure(c.u, item) : item, entry };
}

/** The codec of a crawl job's payloads, for its workers' RedisFrontier. */
export function crawlCodec(run: JobRun | null): CrawlCodec {
  return { work: (payload) => workOf(payload, run), link: linkRequest, expiredRow: leaseExpiredCrawlRow };
}

/** A crawl request's LEASE_EXPIRED row: as the plain queue's, with the depth, referrer and lastmod a crawl's row has. */
export function leaseExpiredCrawlRow(payload: string, expiries: number): string {
  let value: unknown = null;
  try {
    value = JSON.parse(payload);
  } catch {
    // not JSON: named as it is
  }
  const error = new FetchError('LEASE_EXPIRED', `its lease expired ${expiries} times: a worker took it and was not heard from again before its lease ran out, each time`);
  const fields = crawlRowFields(value);
  if (fields !== null) {
    const { url, ...rest } = fields;
    return JSON.stringify(failedResult(url, error, rest));
  }
  const failure = (value as CrawlPayload | null)?.$failure;
  const url = typeof value === 'string' ? value : failure !== undefined ? failure.url : typeof (value as { url?: unknown } | null)?.url === 'string' ? (value as { url: string }).url : payload;
  return JSON.stringify(failedResult(url, error, failure !== undefined ? { sitemap: true } : {}));
}

/** The row fields of a crawl's payload (for a LEASE_EXPIRED row): its URL as the row names it, depth, referrer. */
function crawlRowFields(payload: unknown): { url: string; depth: number; referrer: string | null; lastmod?: string | null } | null {
  const c = (payload as CrawlPayload | null)?.$crawl;
  if (c === undefined || c === null) return null;
  const item = (payload as CrawlPayload).item;
  const url = typeof item === 'string' ? item : typeof (item as { url?: unknown } | undefined)?.url === 'string' ? (item as { url: string }).url : c.u;
  return { url, depth: c.d, referrer: c.r, ...(c.m !== undefined ? { lastmod: c.m } : {}) };
}
