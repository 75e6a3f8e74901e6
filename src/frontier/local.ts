import { SeenSet } from '../crawl/seen-set.js';
import { canonicalKey, inScope } from '../crawl/scope.js';
import type { NormalizedFollow } from '../crawl/follow-options.js';
import type { CrawlEntry, Found, Frontier, FrontierStats, FrontierWork } from './frontier.js';

/** The URL of a seed as the source gave it (a string, a request object), or null when it has none to crawl. */
function seedUrl(value: unknown): URL | null {
  const raw = typeof value === 'string' ? value : value !== null && typeof value === 'object' && typeof (value as { url?: unknown }).url === 'string' ? (value as { url: string }).url : null;
  if (raw === null) return null;
  try {
    const url = new URL(raw.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * The `Referer` a browser sends by default (Referrer Policy `strict-origin-when-cross-origin`): the whole page URL
 * (no fragment, no credentials) to its own origin, only the origin across origins, nothing from https to http.
 */
export function refererFor(page: string, target: URL): string | null {
  let from: URL;
  try {
    from = new URL(page);
  } catch {
    return null;
  }
  if (from.protocol === 'https:' && target.protocol === 'http:') return null;
  if (from.origin !== target.origin) return `${from.origin}/`;
  from.username = '';
  from.password = '';
  from.hash = '';
  return from.href;
}

/**
 * A crawl's frontier in this process: a breadth-first search in levels. Depth `d + 1` starts only when every
 * request of depth `d` has its row, so the first time a URL is seen is by a shortest path and its depth is final
 * the moment it is queued, whatever order responses come back in (the "depth is the shortest path"). The
 * price is the wait for a level's slowest page before the next level starts; the other way (a depth-ordered queue
 * that re-follows a page found shallower later) would keep every fetched page's links for re-following.
 *
 * Memory: the seen set (16 B a URL at most: seen-set.ts) and the pending URLs of the next level, each one object
 * with its URL string (its referrer and scope strings are shared with the page that found it).
 */
export class LocalFrontier implements Frontier {
  readonly stats: FrontierStats = { requested: 0, outOfScope: 0, filtered: 0, duplicates: 0, overMaxPages: 0, depth: 0 };
  private readonly seen = new SeenSet();
  private seeds: AsyncIterator<unknown> | Iterator<unknown> | null;
  /** The depth being requested now. */
  private level = 0;
  /** Pending URLs of `level` (from `head` on) and of the level after it. */
  private current = new Pending();
  private head = 0;
  private upcoming = new Pending();
  /** Entries of `level` handed out without their row yet. */
  private inFlight = 0;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    seeds: AsyncIterator<unknown> | Iterator<unknown>,
    private readonly follow: NormalizedFollow,
    /** Links the run keeps at all (`--shard`): the others are not followed. */
    private readonly keep: ((url: URL) => boolean) | null = null,
  ) {
    this.seeds = seeds;
  }

  async next(): Promise<FrontierWork | null> {
    for (;;) {
      if (this.closed || this.stats.requested >= this.follow.maxPages) return null;
      if (this.seeds !== null) {
        const step = await this.seeds.next();
        if (this.closed) return null;
        if (!step.done) {
          const work = this.seed(step.value);
          if (work !== null) return work;
          continue;
        }
        this.seeds = null;
      }
      if (this.head < this.current.length) {
        const entry = this.current.take(this.head++, this.level);
        return this.handOut(entry, linkItem(entry));
      }
      if (this.inFlight > 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (this.upcoming.length === 0) return null;
      this.level++;
      this.stats.depth = this.level;
      this.current = this.upcoming;
      this.head = 0;
      this.upcoming = new Pending();
    }
  }

  finished(entry: CrawlEntry, found: Found): void {
    this.inFlight--;
    // A seed that redirected (http → https, example.com → www.example.com) is in scope where it landed.
    if (entry.depth === 0 && found.finalUrl !== null) entry.scopeBase = found.finalUrl;
    if (!found.nofollow && entry.depth < this.follow.depth && found.links.length > 0) this.offer(entry, found);
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  claim(url: string): boolean {
    if (this.seen.add(url)) return true;
    this.stats.duplicates++;
    return false;
  }

  close(): void {
    this.closed = true;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Seen-set bytes, for the summary and the benchmark. */
  get seenBytes(): number {
    return this.seen.byteLength;
  }

  private seed(value: unknown): FrontierWork | null {
    const url = seedUrl(value);
    // Not a URL to crawl: the pipeline gives it its error row (INVALID_URL, UNSUPPORTED_SCHEME, INVALID_REQUEST).
    if (url === null) return { item: value, entry: null };
    const key = canonicalKey(url);
    if (!this.claim(key)) return null;
    return this.handOut({ url: key, depth: 0, referrer: null, scopeBase: url.href }, value);
  }

  private handOut(entry: CrawlEntry, item: unknown): FrontierWork {
    this.inFlight++;
    this.stats.requested++;
    return { item, entry };
  }

  private offer(entry: CrawlEntry, found: Found): void {
    const { follow } = this;
    const page = found.finalUrl ?? entry.url;
    const base = new URL(entry.scopeBase);
    for (const link of found.links) {
      let url: URL;
      try {
        url = new URL(link);
      } catch {
        continue;
      }
      if (!inScope(url, base, follow.scope)) {
        this.stats.outOfScope++;
        continue;
      }
      if ((follow.include.length > 0 && !follow.include.some((re) => test(re, link))) || follow.exclude.some((re) => test(re, link)) || (this.keep !== null && !this.keep(url))) {
        this.stats.filtered++;
        continue;
      }
      const key = canonicalKey(url);
      if (this.stats.requested + (this.current.length - this.head) + this.upcoming.length >= follow.maxPages) {
        if (!this.seen.has(key)) this.stats.overMaxPages++;
        continue;
      }
      if (!this.claim(key)) continue;
      this.upcoming.push(key, page, entry.scopeBase);
    }
  }
}

/**
 * The pending URLs of one level, as three parallel arrays rather than an object each: a pending URL costs its string
 * and three pointers (~85 B for a typical URL), not an object header more. Referrer and scope strings are shared
 * with the page that found the link.
 */
class Pending {
  private readonly urls: (string | undefined)[] = [];
  private readonly referrers: (string | undefined)[] = [];
  private readonly scopes: (string | undefined)[] = [];

  get length(): number {
    return this.urls.length;
  }

  push(url: string, referrer: string, scopeBase: string): void {
    this.urls.push(url);
    this.referrers.push(referrer);
    this.scopes.push(scopeBase);
  }

  /** Entry `i`, handed out: the arrays let go of its strings. */
  take(i: number, depth: number): CrawlEntry {
    const entry = { url: this.urls[i] as string, depth, referrer: this.referrers[i] as string, scopeBase: this.scopes[i] as string };
    this.urls[i] = this.referrers[i] = this.scopes[i] = undefined;
    return entry;
  }
}

/** A RegExp with the `g` or `y` flag keeps state between `test` calls: each test starts from the beginning. */
function test(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}

/** The request of a followed link: a GET with the `Referer` a browser would send. */
function linkItem(entry: CrawlEntry): unknown {
  const referer = entry.referrer === null ? null : refererFor(entry.referrer, new URL(entry.url));
  return referer === null ? entry.url : { url: entry.url, headers: { referer } };
}
