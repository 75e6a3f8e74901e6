import type { RedisQueue } from './redis-queue.js';
import { positiveInt, workerName } from './queue-checks.js';
import { CRAWL_CLAIM, CRAWL_COMPLETE, CRAWL_DEFINE, CRAWL_PROMOTE, CRAWL_SEED, CRAWL_STATUS } from './redis-crawl-scripts.js';

/**
 * A crawl's state in a job on the shared queue (issue 21, DESIGN.md "Third round": the frontier's Redis home): the
 * seen set, the links staged per depth, `maxPages` counted fleet-wide. Each method is one Lua script
 * (redis-crawl-scripts.ts), atomic in Redis, on the queue's connection and under the job's `{JOB}` hash tag. The
 * enqueuer seeds it (queue/crawl-seeds.ts); each worker's RedisFrontier completes pages, claims redirect targets and
 * promotes levels.
 */

/** A seed or a link as the crawl scripts take it. */
export interface CrawlRequest {
  /** Its seen-set key (crawl/scope.ts `canonicalKey`); '' for a seed that is not a URL to crawl (queued for its error row). */
  url: string;
  /** `hostname:port`, its per-host queue. */
  host: string;
  /** What a worker claims (crawl-payload.ts). */
  payload: string;
}

/** A page's completion: its final row and, written in the same step, the links it offers. */
export interface CrawlCompletion {
  id: string;
  row: string;
  ok: boolean;
  /** The depth its links are offered at (the page's + 1). */
  depth: number;
  links: readonly CrawlRequest[];
  /** URLs its redirects claimed (let go of once the row is final). */
  claims: readonly string[];
  /** Links the crawl's rules dropped, for the job's counts. */
  outOfScope: number;
  filtered: number;
}

export interface CrawlStatus {
  /** `maxPages` of the job; null for none. */
  maxPages: number | null;
  /** The level being crawled: deeper links wait in their stage until it is done. */
  depth: number;
  /** Seeds and links queued (what maxPages counts). */
  admitted: number;
  /** URLs in the seen set (admitted, plus redirect targets). */
  seen: number;
  /** Links found, waiting for their level. */
  staged: number;
  /** The deepest level a link was queued at. */
  deepest: number;
  duplicates: number;
  overMaxPages: number;
  outOfScope: number;
  filtered: number;
}

export class RedisCrawl {
  constructor(readonly queue: RedisQueue) {}

  /** Makes the job a crawl with `maxPages` (Infinity for none); the first definer's value stays. Returns the job's. */
  async define(maxPages: number): Promise<number | null> {
    const stored = Number(await this.queue.run(CRAWL_DEFINE, [maxPages === Infinity ? '-1' : String(positiveInt('maxPages', maxPages))]));
    return stored < 0 ? null : stored;
  }

  /** Queues seeds at depth 0 (see CRAWL_SEED), in one round trip. */
  async seed(seeds: readonly CrawlRequest[]): Promise<{ added: number; duplicates: number; overMaxPages: number }> {
    if (seeds.length === 0) return { added: 0, duplicates: 0, overMaxPages: 0 };
    const args: string[] = [];
    for (const s of seeds) args.push(s.url, checkedHost(s.host), s.payload);
    const [added, duplicates, overMaxPages] = ((await this.queue.run(CRAWL_SEED, args)) as number[]).map(Number) as [number, number, number];
    return { added, duplicates, overMaxPages };
  }

  /** Writes each page's final row and offers its links, atomically per page; true for each row this call wrote. */
  async complete(worker: string, pages: readonly CrawlCompletion[]): Promise<boolean[]> {
    if (pages.length === 0) return [];
    const args: string[] = [workerName(worker)];
    for (const p of pages) {
      args.push(p.id, p.ok ? '1' : '0', p.row, String(p.depth), String(p.links.length), String(p.claims.length), String(p.outOfScope), String(p.filtered));
      for (const l of p.links) args.push(l.url, checkedHost(l.host), l.payload);
      args.push(...p.claims);
    }
    return ((await this.queue.run(CRAWL_COMPLETE, args)) as number[]).map((n) => n === 1);
  }

  /** A redirect of request `id` is about to request `url`: true when it may (see CRAWL_CLAIM). */
  async claimUrl(url: string, id: string): Promise<boolean> {
    return Number(await this.queue.run(CRAWL_CLAIM, [url, id])) === 1;
  }

  /** Promotes up to `chunk` staged links (see CRAWL_PROMOTE). `left` 0 and `moved` 0: the crawl is over. */
  async promote(chunk = 500): Promise<{ depth: number; moved: number; left: number }> {
    const [depth, moved, left] = ((await this.queue.run(CRAWL_PROMOTE, [String(positiveInt('chunk', chunk, 100_000))])) as number[]).map(Number) as [number, number, number];
    return { depth, moved, left };
  }

  /** The crawl's figures, or null when the job is not a crawl. */
  async status(): Promise<CrawlStatus | null> {
    let reply: number[];
    try {
      reply = ((await this.queue.run(CRAWL_STATUS, [])) as number[]).map(Number);
    } catch (error) {
      if (error instanceof Error && /VOLLEY_NO_(CRAWL|JOB)/.test(error.message)) return null;
      throw error;
    }
    const [maxPages, depth, admitted, seen, staged, deepest, duplicates, overMaxPages, outOfScope, filtered] = reply as [number, number, number, number, number, number, number, number, number, number];
    return { maxPages: maxPages < 0 ? null : maxPages, depth, admitted, seen, staged, deepest, duplicates, overMaxPages, outOfScope, filtered };
  }
}

function checkedHost(host: string): string {
  if (host.includes('\n')) throw new TypeError(`Expected \`host\` without a line break, got ${JSON.stringify(host.slice(0, 100))}`);
  return host;
}
