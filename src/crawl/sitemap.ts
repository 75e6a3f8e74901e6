import { pipeline, Readable } from 'node:stream';
import { lazyBuiltin } from '../lazy-builtin.js';
import { SitemapParser } from './sitemap-parser.js';
import { normalizeSitemapOptions, SitemapError, type SitemapEvent, type SitemapOptions, type SitemapSummary } from './sitemap-types.js';

export * from './sitemap-types.js';
export { SitemapParser, type SitemapSink } from './sitemap-parser.js';
export { parseLastmod } from './lastmod.js';
export { sitemapsInRobots } from './robots-sitemaps.js';

const zlib = lazyBuiltin('node:zlib');

/** Pieces fed to the parser at a time, so one huge chunk from the caller cannot pile up its entries at once. */
const PIECE_BYTES = 64 * 1024;

/**
 * Reads one sitemap from its body bytes (the caller fetches; Content-Encoding already undone by the fetch stage)
 * and yields its entries and warnings in document order, as they are parsed. A body starting with the gzip magic
 * bytes 1f 8b (a `.gz` file served as application/gzip or octet-stream) is inflated on the way, by a node:zlib
 * stream; the byte limit counts inflated bytes, so a gzip bomb stops at `maxBytes`.
 *
 * The generator settles exactly once: it returns the summary, or throws a `SitemapError` (`SITEMAP_PARSE`,
 * `SITEMAP_ROOT`, `SITEMAP_GZIP`) after yielding the entries read before the failure; an error thrown by the source
 * is rethrown as it is (the fetch stage classifies it). Reading pulls the source only as fast as the consumer takes
 * entries. When reading stops early (a cut, an error, or the consumer's `break`), the zlib stream is destroyed and
 * the source's iterator is returned.
 */
export async function* readSitemap(source: AsyncIterable<Uint8Array>, options?: SitemapOptions): AsyncGenerator<SitemapEvent, SitemapSummary, undefined> {
  const limits = normalizeSitemapOptions(options);
  const iterator = source[Symbol.asyncIterator]();
  const pending: SitemapEvent[] = [];
  let outcome: { summary: SitemapSummary } | { error: SitemapError } | null = null;
  const sink = {
    entry: (event: SitemapEvent) => pending.push(event),
    warning: (event: SitemapEvent) => pending.push(event),
    end: (summary: SitemapSummary) => (outcome = { summary }),
    error: (error: SitemapError) => (outcome = { error }),
  };
  // Sniff the first two bytes, which may arrive in separate chunks. (No yield here: nothing to return on a break.)
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < 2 && !done) {
    const next = await iterator.next();
    if (next.done) done = true;
    else {
      head.push(next.value);
      headBytes += next.value.length;
    }
  }
  const first = Buffer.concat(head);
  const gzip = first[0] === 0x1f && first[1] === 0x8b;
  const parser = new SitemapParser(sink, { ...limits, gzip });
  // From here the body owns the source iterator: leaving this loop early returns it.
  const body = gzip ? inflate(first, iterator, done) : rest(first, iterator, done);
  for await (const chunk of body) {
    for (let at = 0; at < chunk.length && !parser.settled; at += PIECE_BYTES) {
      parser.write(chunk.subarray(at, at + PIECE_BYTES));
      yield* pending.splice(0);
    }
    if (parser.settled) break;
  }
  parser.end();
  yield* pending.splice(0);
  const settled = outcome as { summary: SitemapSummary } | { error: SitemapError } | null;
  if (settled === null) throw new SitemapError('SITEMAP_PARSE', 'sitemap parser ended without a result'); // unreachable
  if ('error' in settled) throw settled.error;
  return settled.summary;
}

/** The body after the sniffed head: the head again, then the rest of the source, returned when stopped early. */
async function* rest(head: Uint8Array, iterator: AsyncIterator<Uint8Array>, done: boolean): AsyncGenerator<Uint8Array, void, undefined> {
  let ended = done;
  try {
    if (head.length > 0) yield head;
    while (!ended) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!ended) await iterator.return?.();
  }
}

/**
 * The body inflated by a gunzip stream. Errors of the gzip data (a bad header, a wrong checksum, truncation)
 * become SITEMAP_GZIP; an error of the source passes through unchanged. Leaving the loop early destroys the
 * gunzip stream, and pipeline() then returns the source.
 */
async function* inflate(head: Uint8Array, iterator: AsyncIterator<Uint8Array>, done: boolean): AsyncGenerator<Uint8Array, void, undefined> {
  const sourceErrors = new WeakSet<object>();
  const tagged = async function* (): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      yield* rest(head, iterator, done);
    } catch (error) {
      if (typeof error === 'object' && error !== null) sourceErrors.add(error);
      throw error;
    }
  };
  const gunzip = zlib().createGunzip();
  pipeline(Readable.from(tagged(), { objectMode: false }), gunzip, () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    if (typeof error === 'object' && error !== null && sourceErrors.has(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new SitemapError('SITEMAP_GZIP', `sitemap gzip data could not be inflated: ${message}`, { cause: error });
  } finally {
    gunzip.destroy();
  }
}
