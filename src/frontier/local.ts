import { SeenSet } from '../crawl/seen-set.js';
import { canonicalKey } from '../crawl/scope.js';
import { linkItem, linksToFollow, pageOf, seedUrl } from '../crawl/follow-links.js';
import type { NormalizedFollow } from '../crawl/follow-options.js';
import type { CrawlEntry, Found, Frontier, FrontierStats, FrontierWork, SeedSink } from './frontier.js';
import { Journal, replayJournal, type JournalLine } from './journal.js';
import { RequestLine } from '../source/request-lines.js';
import { FetchError } from '../errors.js';

/** Where a crawl's state lives between runs (`follow.journal`): see journal.ts. */
export interface JournalOptions {
  /** The journal file (the CLI's is `OUTPUT.crawl`); appended to. */
  path: string;
  /**
   * Resuming: the URLs (as rows name them) whose row in the previous output is final. The journal is replayed and
   * every URL it queued that is not among them is queued again, at its depth.
   */
  done?: (url: string) => boolean;
}

/**
 * A crawl's frontier in this process: a breadth-first search in levels. A URL of depth `d` is handed out only when
 * no URL of a smaller depth is in flight, so the first time a URL is seen is by a shortest path and its depth is
 * final the moment it is queued, whatever order responses come back in (the "depth is the shortest path").
 * The price is the wait for a level's slowest page before the next level starts; the other way (a depth-ordered
 * queue that re-follows a page found shallower later) would keep every fetched page's links for re-following.
 * Levels are kept apart (not just "this one and the next") because a resumed crawl can have work at several.
 *
 * Memory: the seen set (16 B a URL at most: seen-set.ts) and the pending URLs (~85 B each: Pending).
 */
export class LocalFrontier implements Frontier, SeedSink {
  readonly stats: FrontierStats = { requested: 0, outOfScope: 0, filtered: 0, duplicates: 0, overMaxPages: 0, depth: 0, sitemapOtherHost: 0, sitemapOlder: 0 };
  /** Rows known without a request, handed out first. */
  private readonly rows: FrontierWork[] = [];
  /** `<lastmod>` of pending sitemap seeds, by URL (taken with them). */
  private readonly lastmods = new Map<string, string | null>();
  private readonly seen = new SeenSet();
  private seeds: AsyncIterator<unknown> | Iterator<unknown> | null;
  /** Pending URLs by depth, each read from its `heads` entry on. */
  private readonly levels: Pending[] = [];
  private readonly heads: number[] = [];
  /** URLs handed out without their row yet, by depth. */
  private readonly inFlight: number[] = [];
  private pending = 0;
  /**
   * While seeds are still read, links queued at depth 1 (not handed out: depth 1 waits for the last seed). A seed
   * that turns out to be one of them is a seed (depth 0), not a link: it is promoted, and its depth-1 slot skipped.
   */
  private linksDuringSeeds: Set<string> | null = new Set();
  /** Promoted seeds whose depth-1 slots are still queued: skipped when reached. */
  private readonly promoted = new Set<string>();
  private wake: (() => void) | null = null;
  private closed = false;
  private journal: Journal | null = null;

  constructor(
    seeds: AsyncIterator<unknown> | Iterator<unknown>,
    private readonly follow: NormalizedFollow,
  ) {
    this.seeds = seeds;
  }

  /**
   * Opens the journal; when resuming, replays it first: the seen set comes back whole, every queued URL whose row
   * is not final is queued again (a seed as it was given, a request object whole), those whose rows are final count
   * towards `maxPages`, and a redirect target counts as requested only if the page that redirected has its row.
   * Call before the first `next()`.
   */
  async openJournal(options: JournalOptions): Promise<void> {
    const done = options.done;
    if (done) {
      // A seed promoted from a link (see linksDuringSeeds) has two lines, the link's first: the seed's wins.
      const promoted = new Set<string>();
      for await (const line of replayJournal(options.path)) if (line.p === 1 && typeof line.u === 'string') promoted.add(line.u);
      for await (const line of replayJournal(options.path)) {
        if (typeof line.c === 'string') {
          // Claimed by a redirect: requested only if the page that redirected has its final row; else that page
          // runs again and claims it again.
          if (typeof line.by !== 'string' || done(line.by)) this.seen.add(line.c);
          continue;
        }
        if (typeof line.u !== 'string' || typeof line.d !== 'number' || typeof line.s !== 'string') continue;
        if (line.d > 0 && promoted.has(line.u)) continue;
        if (!this.seen.add(line.u)) continue;
        const given: unknown = line.d === 0 ? (line.g ?? line.u) : line.u;
        if (done(nameOf(given))) {
          this.stats.requested++;
          continue;
        }
        // A seed keeps the form it was given in, in the referrer slot (seeds have none).
        this.queue(line.d, line.u, line.d === 0 ? given : (line.r ?? line.u), line.s);
        if (line.m !== undefined) this.lastmods.set(line.u, line.m);
      }
    }
    this.journal = new Journal(options.path);
  }

  async next(): Promise<FrontierWork | null> {
    for (;;) {
      if (this.closed) return null;
      const row = this.rows.shift();
      if (row !== undefined) return row;
      if (this.stats.requested >= this.follow.maxPages) return null;
      if (this.seeds !== null) {
        const step = await this.seeds.next();
        if (this.closed) return null;
        if (!step.done) {
          const work = this.seed(step.value);
          if (work !== null) return work;
          continue;
        }
        this.seeds = null;
        this.linksDuringSeeds = null;
      }
      const depth = this.shallowest();
      if (depth === -1) {
        if (this.inFlight.some((n) => n > 0)) {
          await this.changed();
          continue;
        }
        return null;
      }
      // Breadth-first: nothing deeper starts while a shallower page may still find links.
      if (this.inFlight.some((n, d) => d < depth && n > 0)) {
        await this.changed();
        continue;
      }
      const head = this.heads[depth]!;
      this.heads[depth] = head + 1;
      this.pending--;
      const level = this.levels[depth] as Pending;
      const { url, referrer, scopeBase } = level.take(head);
      if (head + 1 === level.length) {
        this.levels[depth] = new Pending();
        this.heads[depth] = 0;
      }
      if (depth > 0 && this.promoted.delete(url)) continue;
      this.stats.depth = Math.max(this.stats.depth, depth);
      if (depth === 0) {
        // A sitemap's seed, or one queued again by a resumed run, as given (see openJournal).
        const entry: CrawlEntry = { url, depth, referrer: null, scopeBase };
        const lastmod = this.lastmods.get(url);
        if (lastmod !== undefined) {
          entry.lastmod = lastmod;
          this.lastmods.delete(url);
        }
        return this.handOut(entry, referrer);
      }
      const entry: CrawlEntry = { url, depth, referrer: referrer as string, scopeBase };
      return this.handOut(entry, linkItem(entry));
    }
  }

  finished(work: FrontierWork, found: Found): void {
    const entry = work.entry;
    if (entry === null) return;
    this.inFlight[entry.depth] = (this.inFlight[entry.depth] ?? 1) - 1;
    const keys = linksToFollow(entry, found, this.follow, this.stats);
    if (keys.length > 0) this.offer(entry, pageOf(entry, found), keys);
    this.notify();
  }

  hold(): () => void {
    this.inFlight[0] = (this.inFlight[0] ?? 0) + 1;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.inFlight[0]!--;
      this.notify();
    };
  }

  addSeed(raw: string, lastmod: string | null): void {
    const url = seedUrl(raw);
    if (url === null) return this.addRow({ item: raw, entry: null });
    const key = canonicalKey(url);
    if (!this.seen.add(key)) {
      this.stats.duplicates++;
      return;
    }
    this.journal?.write([{ u: key, ...(raw === key ? {} : { g: raw }), d: 0, r: null, s: url.href, m: lastmod }]);
    this.queue(0, key, raw, url.href);
    // null too: the row of a sitemap's URL says `lastmod: null` when the sitemap gave none.
    this.lastmods.set(key, lastmod);
    this.notify();
  }

  addRow(work: FrontierWork): void {
    this.rows.push(work);
    this.notify();
  }

  claim(url: string, by?: string): boolean {
    if (this.seen.add(url)) {
      this.journal?.write([by === undefined ? { c: url } : { c: url, by }]);
      return true;
    }
    this.stats.duplicates++;
    return false;
  }

  close(): void {
    this.closed = true;
    this.journal?.close();
    this.journal = null;
    this.notify();
  }

  /** Seen-set bytes, for the summary and the benchmark. */
  get seenBytes(): number {
    return this.seen.byteLength;
  }

  /** URLs queued and not yet handed out. */
  get pendingCount(): number {
    return this.pending;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private changed(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** The smallest depth with a URL pending, or -1. */
  private shallowest(): number {
    for (let d = 0; d < this.levels.length; d++) if (this.heads[d]! < (this.levels[d]?.length ?? 0)) return d;
    return -1;
  }

  private queue(depth: number, url: string, referrer: unknown, scopeBase: string): void {
    while (this.levels.length <= depth) {
      this.levels.push(new Pending());
      this.heads.push(0);
    }
    (this.levels[depth] as Pending).push(url, referrer, scopeBase);
    this.pending++;
  }

  private seed(given: unknown): FrontierWork | null {
    // A `--requests` line: its request object is the seed (a line that holds none is its own error row).
    const value = given instanceof RequestLine ? given.value : given;
    if (value instanceof FetchError) return { item: given, entry: null };
    const url = seedUrl(value);
    // Not a URL to crawl: the pipeline gives it its error row (INVALID_URL, UNSUPPORTED_SCHEME, INVALID_REQUEST).
    if (url === null) return { item: value, entry: null };
    const key = canonicalKey(url);
    // The journal keeps the seed as given (a string as typed, a request object whole), which its row names.
    const line: JournalLine = { u: key, ...(value === key ? {} : { g: value }), d: 0, r: null, s: url.href };
    if (!this.seen.add(key)) {
      if (this.linksDuringSeeds === null || !this.linksDuringSeeds.delete(key)) {
        this.stats.duplicates++;
        return null;
      }
      // An earlier seed's page linked to it: it is a seed all the same (depth 0); its link slot is skipped.
      this.promoted.add(key);
      line.p = 1;
    }
    this.journal?.write([line]);
    return this.handOut({ url: key, depth: 0, referrer: null, scopeBase: url.href }, value);
  }

  private handOut(entry: CrawlEntry, item: unknown): FrontierWork {
    this.inFlight[entry.depth] = (this.inFlight[entry.depth] ?? 0) + 1;
    this.stats.requested++;
    return { item, entry };
  }

  /** Queues the links that passed the crawl's rules (follow-links.ts): new ones, while `maxPages` has room. */
  private offer(entry: CrawlEntry, page: string, keys: readonly string[]): void {
    const { follow } = this;
    const depth = entry.depth + 1;
    const lines: JournalLine[] = [];
    for (const key of keys) {
      if (this.stats.requested + this.pending >= follow.maxPages) {
        if (!this.seen.has(key)) this.stats.overMaxPages++;
        continue;
      }
      if (!this.seen.add(key)) {
        this.stats.duplicates++;
        continue;
      }
      this.queue(depth, key, page, entry.scopeBase);
      if (depth === 1) this.linksDuringSeeds?.add(key);
      if (this.journal !== null) lines.push({ u: key, d: depth, r: page, s: entry.scopeBase });
    }
    // Before the row of this page goes on: a kill after it leaves the links on record.
    this.journal?.write(lines);
  }
}

/** The URL a row names for what a seed was given as: the string, or a request object's `url`, trimmed. */
function nameOf(given: unknown): string {
  if (typeof given === 'string') return given.trim();
  const url = (given as { url?: unknown } | null)?.url;
  return typeof url === 'string' ? url.trim() : '';
}

/**
 * The pending URLs of one level, as three parallel arrays rather than an object each: a pending URL costs its string
 * and three pointers (~85 B for a typical URL), not an object header more. Referrer and scope strings are shared
 * with the page that found the link.
 */
class Pending {
  private readonly urls: (string | undefined)[] = [];
  /** The page that found the link; for a seed (depth 0), the seed as given: a string or a request object. */
  private readonly referrers: unknown[] = [];
  private readonly scopes: (string | undefined)[] = [];

  get length(): number {
    return this.urls.length;
  }

  push(url: string, referrer: unknown, scopeBase: string): void {
    this.urls.push(url);
    this.referrers.push(referrer);
    this.scopes.push(scopeBase);
  }

  /** Entry `i`, handed out: the arrays let go of it. */
  take(i: number): { url: string; referrer: unknown; scopeBase: string } {
    const entry = { url: this.urls[i] as string, referrer: this.referrers[i], scopeBase: this.scopes[i] as string };
    this.urls[i] = this.referrers[i] = this.scopes[i] = undefined;
    return entry;
  }
}
