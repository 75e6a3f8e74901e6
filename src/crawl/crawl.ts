import type { NormalizedOptions } from '../options.js';
import type { NormalizedExtract } from '../parse/spec.js';
import type { FetchResult } from '../result.js';
import { iteratorOf, runPipeline, type IndexedResult } from '../pipeline.js';
import type { CrawlEntry, Frontier } from '../frontier/frontier.js';
import { LocalFrontier } from '../frontier/local.js';
import type { NormalizedFollow } from './follow-options.js';
import { robotsNofollow } from '../parse/meta-robots.js';
import { sitemapSeeds } from './sitemap-seeds.js';
import { createDispatcher } from '../fetch/dispatcher.js';
import { PresetFailure } from '../source/requests.js';
import { FetchError } from '../errors.js';

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
 * fetched, level by level (frontier/local.ts); each row goes back to the frontier with the links its page had,
 * then to the caller with `depth` and `referrer`. The fields the crawl needed but the caller did not ask for
 * (`links`, the meta robots) are taken off the row.
 */
export async function* runCrawl(source: Source, options: NormalizedOptions, frontier?: Frontier): AsyncGenerator<IndexedResult> {
  // Sitemaps alone are a crawl that follows nothing.
  const follow = options.follow ?? SITEMAPS_ONLY;
  let crawl: Frontier;
  if (frontier !== undefined) crawl = frontier;
  else {
    const local = new LocalFrontier(iteratorOf(source), follow);
    if (follow.journal !== null) await local.openJournal(follow.journal);
    crawl = local;
  }
  const stopSitemaps = new AbortController();
  const onAbort = (): void => stopSitemaps.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const reading = options.sitemaps.length > 0 ? readSitemaps(crawl, options, stopSitemaps.signal) : null;
  const userExtract = options.extract;
  const keepLinks = userExtract?.links === true;
  /** Entries handed to the pipeline, by the index it gives them (one per item pulled, in order: dedupe is off). */
  const entries = new Map<number, CrawlEntry>();
  let pulled = 0;
  const sitemapRows = new Set<number>();
  async function* items(): AsyncGenerator<unknown> {
    for (;;) {
      const work = await crawl.next();
      if (work === null) return;
      if (work.entry !== null) entries.set(pulled, work.entry);
      if (work.sitemap) sitemapRows.add(pulled);
      pulled++;
      yield work.item;
    }
  }
  try {
    for await (const indexed of runPipeline(items(), crawlOptions(options, follow), { claim: (key, by) => crawl.claim(key, by), ownSource: true })) {
      const row = indexed.result;
      const entry = entries.get(indexed.index);
      if (entry !== undefined) {
        entries.delete(indexed.index);
        const links = follow.select !== null ? (row.followLinks ?? []) : (row.links ?? []);
        crawl.finished(entry, { links: row.ok ? links : [], finalUrl: row.finalUrl, nofollow: options.respectRobots && robotsNofollow(row.metaRobots ?? null) });
      }
      if (!keepLinks) delete row.links;
      if (userExtract?.metaRobots !== true) delete row.metaRobots;
      if (userExtract?.followSelect == null) delete row.followLinks;
      row.depth = entry?.depth ?? 0;
      row.referrer = entry?.referrer ?? null;
      if (entry?.lastmod !== undefined) row.lastmod = entry.lastmod;
      if (sitemapRows.delete(indexed.index)) row.sitemap = true;
      yield indexed;
    }
  } finally {
    stopSitemaps.abort();
    options.signal?.removeEventListener('abort', onAbort);
    await reading;
    crawl.close();
  }
}

/**
 * Reads the run's sitemaps into the frontier as fast as they come (not as the crawl asks: a sitemap's deadline runs
 * while it is read), holding depth 0 open until the last one is read. Its own dispatcher, closed after.
 */
async function readSitemaps(crawl: Frontier, options: NormalizedOptions, signal: AbortSignal): Promise<void> {
  const release = crawl.hold();
  const dispatcher = options.dispatcher ?? createDispatcher(options);
  try {
    const seeds = sitemapSeeds(options.sitemaps, {
      dispatcher,
      timeoutMs: options.timeoutMs,
      signal,
      headers: { 'user-agent': options.userAgent, ...options.headers },
      maxRedirects: options.maxRedirects,
      allHosts: options.follow?.scope === 'all',
      newerThan: options.newerThan,
    });
    for await (const seed of seeds) {
      if (seed.kind === 'seed') crawl.addSeed(seed.url, seed.lastmod);
      else if (seed.kind === 'failure') crawl.addRow({ item: new PresetFailure(seed.url, new FetchError(seed.code, seed.message)), entry: null, sitemap: true });
      else if (seed.kind === 'warning') options.onWarning?.(seed.message);
      else if (seed.reason === 'other-host') crawl.stats.sitemapOtherHost++;
      else crawl.stats.sitemapOlder++;
    }
    const { sitemapOtherHost: otherHost, sitemapOlder: older } = crawl.stats;
    if (otherHost > 0) options.onWarning?.(`${otherHost} sitemap entr${otherHost === 1 ? 'y' : 'ies'} on another host than their sitemap skipped (--scope all keeps them)`);
    if (older > 0) options.onWarning?.(`${older} sitemap entr${older === 1 ? 'y' : 'ies'} not newer than --newer-than skipped`);
  } catch (err) {
    // sitemapSeeds turns every failure into a row; what reaches here is a bug, and must not be a silent one.
    options.onWarning?.(`reading the sitemaps stopped: ${(err as Error)?.message ?? String(err)}`);
  } finally {
    if (dispatcher !== options.dispatcher) await dispatcher.destroy().catch(() => {});
    release();
  }
}
