import { canonicalKey, inScope } from './scope.js';
import type { NormalizedFollow } from './follow-options.js';
import type { CrawlEntry, Found, FrontierStats } from '../frontier/frontier.js';
import { refererFor } from '../fetch/referer.js';

/**
 * The crawl's rules for the links of a finished page, in one place for both homes of the frontier (local.ts in this
 * process, redis-frontier.ts on a shared queue), so that a crawl through the queue follows exactly what a local one
 * does: the depth limit, `nofollow`, scope around the seed (where a redirected seed landed), include/exclude and the
 * filter. What is left (the seen set, `maxPages`) is the frontier's own: it depends on where the crawl's state lives.
 */

/** A link that passed the rules: its seen-set key. */
export interface LinkToFollow {
  key: string;
  /** The depth it is offered at (the page's + 1). */
  depth: number;
}

/**
 * The links of `entry`'s page to offer at the next depth, as seen-set keys in page order (duplicates on the page
 * left in: the seen set drops them and counts them). Counts the links the rules dropped in `stats`. A seed that
 * redirected (http → https, example.com → www.example.com) keeps the scope of where it landed: `entry.scopeBase`
 * is updated, and the links found on its page carry it.
 */
export function linksToFollow(entry: CrawlEntry, found: Found, follow: NormalizedFollow, stats: Pick<FrontierStats, 'outOfScope' | 'filtered'>): string[] {
  if (entry.depth === 0 && found.finalUrl !== null) entry.scopeBase = found.finalUrl;
  if (found.nofollow || entry.depth >= follow.depth || found.links.length === 0) return [];
  const base = new URL(entry.scopeBase);
  const keys: string[] = [];
  for (const link of found.links) {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      continue;
    }
    if (!inScope(url, base, follow.scope)) {
      stats.outOfScope++;
      continue;
    }
    if ((follow.include.length > 0 && !follow.include.some((re) => test(re, link))) || follow.exclude.some((re) => test(re, link)) || (follow.filter !== null && !follow.filter(url))) {
      stats.filtered++;
      continue;
    }
    keys.push(canonicalKey(url));
  }
  return keys;
}

/** The page a link was found on, as the link's `referrer` names it: where the page's redirects landed. */
export function pageOf(entry: CrawlEntry, found: Found): string {
  return found.finalUrl ?? entry.url;
}

/** The request of a followed link: a GET with the `Referer` a browser would send. */
export function linkItem(entry: CrawlEntry): unknown {
  const referer = entry.referrer === null ? null : refererFor(entry.referrer, new URL(entry.url));
  return referer === null ? entry.url : { url: entry.url, headers: { referer } };
}

/** The URL of a seed as the source gave it (a string, a request object), or null when it has none to crawl. */
export function seedUrl(value: unknown): URL | null {
  const raw = typeof value === 'string' ? value : value !== null && typeof value === 'object' && typeof (value as { url?: unknown }).url === 'string' ? (value as { url: string }).url : null;
  if (raw === null) return null;
  try {
    const url = new URL(raw.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** A RegExp with the `g` or `y` flag keeps state between `test` calls: each test starts from the beginning. */
function test(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}
