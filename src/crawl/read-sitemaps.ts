import type { NormalizedOptions } from '../options.js';
import type { SeedSink } from '../frontier/frontier.js';
import { sitemapSeeds } from './sitemap-seeds.js';
import { createDispatcher } from '../fetch/dispatcher.js';
import { PresetFailure } from '../source/requests.js';
import { FetchError } from '../errors.js';

/**
 * Reads the run's sitemaps into a seed sink (the local frontier, or `volley enqueue`'s sink into a job on the shared
 * queue) as fast as they come (not as the crawl asks: a sitemap's deadline runs while it is read), holding depth 0
 * open until the last one is read. Its own dispatcher, closed after.
 */
export async function readSitemaps(crawl: SeedSink, options: NormalizedOptions, signal: AbortSignal): Promise<void> {
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
      if (seed.kind === 'seed') await crawl.addSeed(seed.url, seed.lastmod);
      else if (seed.kind === 'failure') await crawl.addRow({ item: new PresetFailure(seed.url, new FetchError(seed.code, seed.message)), entry: null, sitemap: true });
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
