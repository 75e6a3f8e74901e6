/**
 * The frontier (DESIGN.md, "Third round"): the requests of a crawl known but not yet done, and the set of those
 * already seen. The pipeline pulls the next ready request from it and hands back what each one found; whether the
 * frontier lives in this process (local.ts) or in Redis is not the pipeline's concern.
 */
import type { FetchResult } from '../result.js';

/** One request of a crawl, as the frontier hands it out and takes it back. */
export interface CrawlEntry {
  /** The URL requested: WHATWG-serialised, without its fragment (the seen set's key). */
  url: string;
  /** Links followed from a seed to reach it, by the shortest path (seeds are 0). */
  depth: number;
  /** The page where the link was first found at this depth; null for a seed. */
  referrer: string | null;
  /** The URL whose scope this one keeps: its seed, or where the seed's redirects landed. */
  scopeBase: string;
  /** A sitemap's `<lastmod>` for this URL, as written (null when the entry had none); absent when not from a sitemap. */
  lastmod?: string | null;
}

/** What the pipeline gets from the frontier: the item for the source (a URL, a request object) and its entry. */
export interface FrontierWork {
  /** Handed to the pipeline as a source item. */
  item: unknown;
  /** Null for a seed that is not a valid http(s) URL: it becomes its error row and is not crawled. */
  entry: CrawlEntry | null;
  /** The row is a sitemap's that could not be read (its item a PresetFailure). */
  sitemap?: boolean;
}

/** What a finished request found, as the frontier needs it. */
export interface Found {
  /** The absolute http(s) links of the page, to follow (none for a page that is not HTML, or failed). */
  links: readonly string[];
  /** Where the last response came from (redirects followed), or null. */
  finalUrl: string | null;
  /** The page said `<meta name="robots" content="nofollow">` (or `none`) and robots are obeyed. */
  nofollow: boolean;
}

/** Counts for the summary. */
export interface FrontierStats {
  /** Requests handed out (seeds and followed links; not robots.txt, sitemaps or redirect hops). */
  requested: number;
  /** Links not followed, by reason. */
  outOfScope: number;
  filtered: number;
  /** Seeds, links and redirect targets already requested (or pending): not requested again. */
  duplicates: number;
  /** Links not followed because `maxPages` was reached. */
  overMaxPages: number;
  /** The deepest level reached. */
  depth: number;
  /** Sitemap entries skipped: on another host than their sitemap, or not newer than `newerThan`. */
  sitemapOtherHost: number;
  sitemapOlder: number;
}

/**
 * What the pipeline pulls work from: one per crawl, or one per worker of a crawl through the shared queue
 * (redis-frontier.ts), where it is the worker's window onto the job's frontier in Redis.
 */
export interface Frontier {
  /**
   * The next request to start, waiting while nothing is ready (the current depth's pages are still in flight);
   * null once the crawl is over, or after `close()`.
   */
  next(): Promise<FrontierWork | null>;
  /**
   * A work handed out by `next` has its final row (as the caller gets it: depth, referrer and lastmod set): its links
   * are offered at the next depth. Called once per work, those without an entry (error rows) included.
   */
  finished(work: FrontierWork, found: Found, row: FetchResult): void;
  /**
   * A redirect of `by` (the URL as its row names it) is about to request `url` (its key): true when it is new (now
   * claimed, never requested again), false when it was requested or is pending already (the redirect is not
   * followed). A shared frontier answers from Redis, so asynchronously.
   */
  claim(url: string, by?: string): boolean | Promise<boolean>;
  readonly stats: FrontierStats;
  /** Ends the crawl: `next` resolves null from now on, waiting callers too. */
  close(): void;
}

/**
 * Where seeds that arrive on their own (a sitemap being read) go: the local frontier itself, or, for a crawl through
 * the queue, the enqueuer's sink into the job (queue/crawl-seeds.ts): sitemaps are read once, by `volley enqueue`,
 * never by each worker. A promise returned is waited for before the next seed (backpressure on a long sitemap).
 */
export interface SeedSink {
  /** While `hold`'s release is not called, depth 0 is not finished, so no link is followed that a later seed might reach sooner. */
  hold(): () => void;
  /** A seed from a sitemap, queued at depth 0 with its `<lastmod>`. */
  addSeed(url: string, lastmod: string | null): void | Promise<void>;
  /** A row that is known without a request (a sitemap that could not be read), handed out before other work. */
  addRow(work: FrontierWork): void | Promise<void>;
  readonly stats: Pick<FrontierStats, 'sitemapOtherHost' | 'sitemapOlder'>;
}
