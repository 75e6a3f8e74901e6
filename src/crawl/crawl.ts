import type { NormalizedOptions } from '../options.js';
import type { NormalizedExtract } from '../parse/spec.js';
import type { FetchResult } from '../result.js';
import { iteratorOf, runPipeline, type IndexedResult } from '../pipeline.js';
import type { Frontier, FrontierWork, SeedSink } from '../frontier/frontier.js';
import { LocalFrontier } from '../frontier/local.js';
import type { NormalizedFollow } from './follow-options.js';
import { robotsNofollow } from '../parse/meta-robots.js';
import { readSitemaps } from './read-sitemaps.js';
import type { PipelineParts } from '../pipeline.js';

type Source = Iterable<unknown> | AsyncIterable<unknown>;

const SITEMAPS_ONLY: NormalizedFollow = { depth: 0, scope: 'host', include: [], exclude: [], select: null, maxPages: Infinity, journal: null, filter: null };

/** What the crawl itself needs from each page, whatever the user asked to extract. */
function crawlOptions(options: NormalizedOptions, follow: NormalizedFollow): NormalizedOptions {
  const extract: NormalizedExtract = options.extract ?? { title: false, description: false, canonical: false, lang: false, links: false, metaRobots: false, followSelect: null, select: [] };
  const forCrawl: NormalizedExtract = { ...extract, links: follow.select === null || extract.links, metaRobots: options.respectRobots || extract.metaRobots, followSelect: follow.select };
  // The frontier requests every URL once: the pipeline's own de-duplication would only hide rows.
  return { ...options, dedupe: false, extract: forCrawl };
}

/**
 * A crawl (`follow`): the pipeline's source is the frontier, which hands out the seeds, then the links of the pages
 * fetched, level by level (frontier/local.ts); each row, with `depth` and `referrer` set and the fields the crawl
 * needed but the caller did not ask for (`links`, the meta robots) taken off, goes back to the frontier with the links
 * its page had, then to the caller. A shared queue's worker passes its own frontier (redis-frontier.ts: the row is
 * written to Redis with the links, in one step) and `onHostPace`; its sitemaps were read by the enqueuer.
 */
export async function* runCrawl(
  source: Source,
  options: NormalizedOptions,
  frontier?: Frontier & Partial<SeedSink>,
  parts: Pick<PipelineParts, 'onHostPace' | 'breaker' | 'robotsStore'> = {},
): AsyncGenerator<IndexedResult> {
  // Sitemaps alone are a crawl that follows nothing.
  const follow = options.follow ?? SITEMAPS_ONLY;
  let crawl: Frontier & Partial<SeedSink>;
  if (frontier !== undefined) crawl = frontier;
  else {
    const local = new LocalFrontier(iteratorOf(source), follow);
    if (follow.journal !== null) await local.openJournal(follow.journal);
    crawl = local;
  }
  const stopSitemaps = new AbortController();
  const onAbort = (): void => stopSitemaps.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const sink = crawl.hold !== undefined && crawl.addSeed !== undefined && crawl.addRow !== undefined ? (crawl as Frontier & SeedSink) : null;
  if (options.sitemaps.length > 0 && sink === null) throw new TypeError('runCrawl: sitemaps need a frontier that takes seeds (a SeedSink)');
  const reading = options.sitemaps.length > 0 && sink !== null ? readSitemaps(sink, options, stopSitemaps.signal) : null;
  const userExtract = options.extract;
  const keepLinks = userExtract?.links === true;
  /** Work handed to the pipeline, by the index it gives them (one per item pulled, in order: dedupe is off). */
  const works = new Map<number, FrontierWork>();
  let pulled = 0;
  async function* items(): AsyncGenerator<unknown> {
    for (;;) {
      const work = await crawl.next();
      if (work === null) return;
      works.set(pulled++, work);
      yield work.item;
    }
  }
  try {
    for await (const indexed of runPipeline(items(), crawlOptions(options, follow), { claim: (key, by) => crawl.claim(key, by), ownSource: true, ...parts })) {
      const row = indexed.result;
      const work = works.get(indexed.index);
      works.delete(indexed.index);
      const entry = work?.entry ?? null;
      const links = follow.select !== null ? (row.followLinks ?? []) : (row.links ?? []);
      const found = { links: row.ok && entry !== null ? links : [], finalUrl: row.finalUrl, nofollow: options.respectRobots && robotsNofollow(row.metaRobots ?? null) };
      if (!keepLinks) delete row.links;
      if (userExtract?.metaRobots !== true) delete row.metaRobots;
      if (userExtract?.followSelect == null) delete row.followLinks;
      row.depth = entry?.depth ?? 0;
      row.referrer = entry?.referrer ?? null;
      if (entry?.lastmod !== undefined) row.lastmod = entry.lastmod;
      if (work?.sitemap === true) row.sitemap = true;
      // The row is final before the frontier sees it: a shared frontier writes it to Redis with the links.
      if (work !== undefined) crawl.finished(work, found, row);
      yield indexed;
    }
  } finally {
    stopSitemaps.abort();
    options.signal?.removeEventListener('abort', onAbort);
    await reading;
    crawl.close();
  }
}
