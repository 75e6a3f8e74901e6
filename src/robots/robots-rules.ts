import robotsParserModule from 'robots-parser';
import { FetchError, type ErrorCode } from '../errors.js';
import type { HttpResponse } from '../fetch/client.js';

export interface RobotsVerdict {
  allowed: boolean;
  /** robots.txt `Crawl-delay` for our agent, in ms, or null. */
  crawlDelayMs: number | null;
}

interface Robot {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getCrawlDelay(ua?: string): number | undefined;
}
// robots-parser is CommonJS (`module.exports = fn`) while its typings claim a default export.
const robotsParser = robotsParserModule as unknown as (url: string, contents: string) => Robot;

/**
 * RFC 9309 §2.2.1: a group is matched by its product token, the leading `[a-zA-Z_-]+` of the user-agent value,
 * case-insensitively. robots-parser keeps the whole value ("FooBot Bar" would never match FooBot), so the
 * values are cut to their token before it reads them.
 */
function productTokensOnly(text: string): string {
  return text.replace(/^([ \t]*user-agent[ \t]*:[ \t]*)([^\r\n#]*)/gim, (_line, key: string, value: string) => {
    const token = /^(\*|[A-Za-z_-]+)/.exec(value.trim())?.[1];
    return token === undefined ? `${key}${value}` : `${key}${token}`;
  });
}

/** The rules of one robots.txt body, for the origin of `robotsUrl`. */
export function compileRobots(robotsUrl: string, text: string): Robot {
  const robot = robotsParser(robotsUrl, productTokensOnly(text));
  return {
    // RFC 9309 §2.2.2 (last paragraph): /robots.txt itself is always allowed.
    isAllowed: (url, ua) => (new URL(url).pathname === '/robots.txt' ? true : robot.isAllowed(url, ua)),
    getCrawlDelay: (ua) => robot.getCrawlDelay(ua),
  };
}

type Rules = { kind: 'parsed'; robots: Robot } | { kind: 'allow-all' } | { kind: 'disallow-all' };

/** What fetching a robots.txt came to, as plain data a store can keep: its text (2xx), or a verdict on the origin. */
export type RobotsFile = { kind: 'text'; text: string } | { kind: 'allow-all' } | { kind: 'disallow-all' };

/**
 * Where robots.txt files are shared beyond one run: a shared queue's job keeps each origin's file so that the fleet
 * fetches it once (frontier/redis-robots.ts). `get` returns the stored file, or calls `fetch` (at most one caller
 * across the fleet at a time) and stores what it returns. A store that fails makes the run fetch the file itself.
 */
export interface RobotsStore {
  get(origin: string, fetch: () => Promise<RobotsFile>): Promise<RobotsFile>;
}

/** RFC 9309 §2.5: crawlers must read at least 500 KiB of a robots.txt; more is not needed. */
export const ROBOTS_MAX_BYTES = 512 * 1024;
/** RFC 9309 §2.3.1.2: at least five consecutive redirects are followed; more means unavailable. */
export const ROBOTS_MAX_REDIRECTS = 5;

/**
 * How a robots.txt is fetched: the caller requests it as it requests every URL (a global slot, its host's slot and
 * pacing), following up to ROBOTS_MAX_REDIRECTS redirects and reading at most ROBOTS_MAX_BYTES, and hands back
 * the last response or why there is none.
 */
export type RobotsFetcher = (robotsUrl: URL) => Promise<HttpResponse | FetchError>;

/** Failures that say the redirects of a robots.txt led nowhere usable: the file is unavailable (RFC 9309 §2.3.1.2). */
const REDIRECT_FAILURES: ReadonlySet<ErrorCode> = new Set(['TOO_MANY_REDIRECTS', 'INVALID_URL', 'UNSUPPORTED_SCHEME']);
/** Origins whose rules are remembered; beyond this the oldest are dropped (and fetched again if needed). */
const MAX_ORIGINS = 10_000;

/**
 * robots.txt per origin, fetched once per run (through `fetchRobots`, under the same limits as every request)
 * and shared by every URL of that origin; only that origin's URLs wait for it. Matching is
 * robots-parser's (longest match wins, Allow wins a tie, `*` and `$` wildcards, groups of one agent merged).
 * Unavailable (4xx) means allow all; unreachable (5xx, 429, network failure) means disallow all: RFC 9309 §2.3.1.3–4.
 */
export class RobotsRules {
  private readonly cache = new Map<string, Promise<Rules>>();

  constructor(
    private readonly userAgent: string,
    private readonly fetchRobots: RobotsFetcher,
    private readonly store?: RobotsStore,
  ) {}

  async check(url: URL): Promise<RobotsVerdict> {
    const rules = await this.rulesFor(url.origin);
    if (rules.kind === 'allow-all') return { allowed: true, crawlDelayMs: null };
    if (rules.kind === 'disallow-all') return { allowed: false, crawlDelayMs: null };
    const allowed = rules.robots.isAllowed(url.href, this.userAgent) ?? true;
    const delay = rules.robots.getCrawlDelay(this.userAgent);
    return { allowed, crawlDelayMs: typeof delay === 'number' && delay > 0 ? delay * 1000 : null };
  }

  private rulesFor(origin: string): Promise<Rules> {
    let rules = this.cache.get(origin);
    if (!rules) {
      if (this.cache.size >= MAX_ORIGINS) this.cache.delete(this.cache.keys().next().value as string);
      rules = this.load(origin);
      this.cache.set(origin, rules);
    }
    return rules;
  }

  private async load(origin: string): Promise<Rules> {
    const fetch = (): Promise<RobotsFile> => this.fetchFile(origin);
    // A store that cannot answer costs the sharing, never the rules: the file is fetched here.
    const file = this.store ? await this.store.get(origin, fetch).catch(fetch) : await fetch();
    if (file.kind !== 'text') return file;
    // Rules fetched through a redirect still govern the origin that was asked (RFC 9309 §2.3.1.2).
    return { kind: 'parsed', robots: compileRobots(new URL('/robots.txt', origin).href, file.text) };
  }

  private async fetchFile(origin: string): Promise<RobotsFile> {
    const robotsUrl = new URL('/robots.txt', origin);
    let res: HttpResponse | FetchError;
    try {
      res = await this.fetchRobots(robotsUrl);
    } catch {
      return { kind: 'disallow-all' };
    }
    if (res instanceof FetchError) return { kind: REDIRECT_FAILURES.has(res.code) ? 'allow-all' : 'disallow-all' };
    if (res.status >= 200 && res.status < 300) return { kind: 'text', text: new TextDecoder('utf-8').decode(res.body ?? new Uint8Array()) };
    if (res.status >= 400 && res.status < 500 && res.status !== 429) return { kind: 'allow-all' };
    return { kind: 'disallow-all' };
  }
}
