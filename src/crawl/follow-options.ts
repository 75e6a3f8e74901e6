import { describeValue } from '../describe-value.js';
import { parseSelector } from '../parse/spec.js';
import type { JournalOptions } from '../frontier/local.js';

/**
 * How far a crawl follows links from its seed: `origin` the same scheme, host and port (the browser's origin);
 * `host` the same host name, any scheme or port; `domain` the same registrable domain (eTLD+1 by the Public Suffix
 * List, private section included: `a.example.co.uk` and `b.example.co.uk` are one domain, `foo.github.io` and
 * `bar.github.io` two); `all` anywhere.
 */
export type CrawlScope = 'host' | 'domain' | 'origin' | 'all';

// Here, not in scope.ts: options and flags need the names, and only a crawl should load the Public Suffix List.
export const CRAWL_SCOPES: readonly CrawlScope[] = ['host', 'domain', 'origin', 'all'];

/** How a crawl grows its list from the pages it fetches (`fetchAll(seeds, { follow: { … } })`, the CLI's `--follow`). */
export interface FollowOptions {
  /** Links followed from a seed at most (wget's `-l`): a page at this depth is fetched, its links are not followed. @default 5 */
  depth?: number;
  /**
   * Which links stay in the crawl, compared with the seed they descend from: the same host name (`host`), registrable
   * domain by the Public Suffix List (`domain`), scheme+host+port (`origin`), or anything (`all`). A seed that
   * redirects is compared by where it landed. @default 'host'
   */
  scope?: CrawlScope;
  /** A link in scope is followed only when it matches one of these (when any are given). Strings are compiled as RegExp. */
  include?: ReadonlyArray<RegExp | string>;
  /** A link matching any of these is not followed. */
  exclude?: ReadonlyArray<RegExp | string>;
  /** Follow only the links in elements this CSS selector matches (`a[rel~=next]`, `.pagination`), not every link. */
  select?: string;
  /** Pages requested in the whole run at most, seeds included (robots.txt and redirect hops not counted). @default Infinity */
  maxPages?: number;
  /**
   * A last say on each link that passed scope, include and exclude: false and it is not followed. (The CLI's
   * `--shard K/N` keeps a crawl's links on the machine whose shard their host is.)
   */
  filter?: (url: URL) => boolean;
  /**
   * The crawl's state file, so that a crawl stopped at any point (SIGKILL included) can be resumed: an append-only
   * journal of every URL queued. With `done` (the URLs whose rows in the previous output are final), the journal is
   * replayed first and the crawl goes on where it stopped, with the same pages and depths as one uninterrupted run.
   * The CLI keeps it beside `-o FILE` as `FILE.crawl`.
   */
  journal?: JournalOptions;
}

export interface NormalizedFollow {
  depth: number;
  scope: CrawlScope;
  include: RegExp[];
  exclude: RegExp[];
  select: string | null;
  maxPages: number;
  journal: JournalOptions | null;
  filter: ((url: URL) => boolean) | null;
}

export const FOLLOW_DEFAULTS = { depth: 5, scope: 'host', maxPages: Infinity } as const;

function patterns(name: string, value: unknown): RegExp[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`Expected \`follow.${name}\` to be an array of RegExp or strings, got ${describeValue(value)}`);
  return value.map((p: unknown) => {
    if (p instanceof RegExp) return p;
    if (typeof p !== 'string') throw new TypeError(`Expected \`follow.${name}\` to hold RegExp or strings, got ${describeValue(p)}`);
    try {
      return new RegExp(p);
    } catch (err) {
      throw new TypeError(`Invalid regular expression in \`follow.${name}\`: \`${p}\` (${(err as Error).message})`);
    }
  });
}

/** Validates `follow` at the edge, with messages that name the option and echo the value. */
export function normalizeFollow(follow: FollowOptions | boolean | undefined): NormalizedFollow | null {
  if (follow === undefined || follow === false) return null;
  const o: FollowOptions = follow === true ? {} : follow;
  if (typeof o !== 'object' || o === null) throw new TypeError(`Expected \`follow\` to be true or an object, got ${describeValue(follow)}`);
  const depth = o.depth ?? FOLLOW_DEFAULTS.depth;
  if (!Number.isInteger(depth) || depth < 0) throw new RangeError(`Expected \`follow.depth\` to be an integer from 0 and up, got ${describeValue(depth)}`);
  const scope = o.scope ?? FOLLOW_DEFAULTS.scope;
  if (!CRAWL_SCOPES.includes(scope)) throw new TypeError(`Expected \`follow.scope\` to be one of ${CRAWL_SCOPES.join(', ')}, got ${describeValue(scope)}`);
  const maxPages = o.maxPages ?? FOLLOW_DEFAULTS.maxPages;
  if (maxPages !== Infinity && (!Number.isInteger(maxPages) || maxPages < 1)) {
    throw new RangeError(`Expected \`follow.maxPages\` to be an integer from 1 and up, got ${describeValue(maxPages)}`);
  }
  if (o.select !== undefined && (typeof o.select !== 'string' || o.select.trim() === '')) {
    throw new TypeError(`Expected \`follow.select\` to be a CSS selector, got ${describeValue(o.select)}`);
  }
  // Checked by the selector engine the parse threads use, as `-s` selectors are.
  if (o.select !== undefined) parseSelector('follow.select', o.select);
  const journal = o.journal ?? null;
  if (journal !== null && (typeof journal !== 'object' || typeof journal.path !== 'string' || journal.path === '' || (journal.done !== undefined && typeof journal.done !== 'function'))) {
    throw new TypeError(`Expected \`follow.journal\` to be { path: string, done?: (url) => boolean }, got ${describeValue(journal)}`);
  }
  if (o.filter !== undefined && typeof o.filter !== 'function') throw new TypeError(`Expected \`follow.filter\` to be a function, got ${describeValue(o.filter)}`);
  return { depth, scope, include: patterns('include', o.include), exclude: patterns('exclude', o.exclude), select: o.select?.trim() ?? null, maxPages, journal, filter: o.filter ?? null };
}
