import type { FrontierWork, SeedSink } from '../frontier/frontier.js';
import type { CrawlRequest, RedisCrawl } from '../frontier/redis-crawl.js';
import { PresetFailure } from '../source/requests.js';
import { FetchError } from '../errors.js';
import type { InputItem } from '../cli/work.js';
import type { JobRun } from './job.js';
import { failureRequest, seedFromInput, seedFromSitemap } from './crawl-payload.js';

/**
 * Where `volley enqueue` puts a crawl's seeds: its inputs (URL lines, `--requests` lines) and the entries of its
 * sitemaps, read once here (crawl/read-sitemaps.ts, as a local crawl reads them) rather than by every worker. Sent
 * `batchSize` per round trip (CRAWL_SEED: the seen set drops a seed already in the job, `maxPages` counts them),
 * each batch waited for before more is read: a long list or sitemap is never held whole.
 */
export class RedisSeedSink implements SeedSink {
  readonly stats = { sitemapOtherHost: 0, sitemapOlder: 0 };
  /** What the job took: seeds queued, dropped as already seen, dropped over `maxPages`. */
  readonly totals = { added: 0, duplicates: 0, overMaxPages: 0 };
  private batch: CrawlRequest[] = [];

  constructor(
    private readonly crawl: RedisCrawl,
    private readonly run: JobRun,
    private readonly batchSize = 500,
  ) {}

  /**
   * Nothing to hold: the workers' breadth-first order starts from what is in the job when they start, and a seed
   * that comes later is still crawled (at depth 0), only the depths of its links are not the shortest.
   */
  hold(): () => void {
    return () => {};
  }

  addInput(item: InputItem): Promise<void> {
    return this.push(seedFromInput(item, this.run));
  }

  addSeed(url: string, lastmod: string | null): Promise<void> {
    return this.push(seedFromSitemap(url, lastmod));
  }

  addRow(work: FrontierWork): Promise<void> {
    const failure = work.item instanceof PresetFailure ? work.item : new PresetFailure('', new FetchError('INVALID_REQUEST', 'a seed row without a request'));
    return this.push(failureRequest(failure));
  }

  /** Sends what is batched. */
  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    const r = await this.crawl.seed(batch);
    this.totals.added += r.added;
    this.totals.duplicates += r.duplicates;
    this.totals.overMaxPages += r.overMaxPages;
  }

  private async push(request: CrawlRequest): Promise<void> {
    this.batch.push(request);
    if (this.batch.length >= this.batchSize) await this.flush();
  }
}
