import robotsParserModule from 'robots-parser';
import type { Dispatcher } from 'undici';
import { FetchError } from '../errors.js';
import { fetchOnce, type ClientSettings } from '../fetch/client.js';
import { nextHop } from '../fetch/redirects.js';

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

/** RFC 9309 §2.5: crawlers must read at least 500 KiB of a robots.txt; more is not needed. */
const ROBOTS_MAX_BYTES = 512 * 1024;
/** RFC 9309 §2.3.1.2: at least five consecutive redirects are followed; more means unavailable. */
const ROBOTS_MAX_REDIRECTS = 5;
/** Origins whose rules are remembered; beyond this the oldest are dropped (and fetched again if needed). */
const MAX_ORIGINS = 10_000;

/**
 * robots.txt per origin, fetched once per run and shared by every URL of that origin. Matching is
 * robots-parser's (longest match wins, Allow wins a tie, `*` and `$` wildcards, groups of one agent merged).
 * Unavailable (4xx) means allow all; unreachable (5xx, 429, network failure) means disallow all: RFC 9309 §2.3.1.3–4.
 */
export class RobotsRules {
  private readonly cache = new Map<string, Promise<Rules>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly client: ClientSettings,
    private readonly userAgent: string,
  ) {}

  async check(url: URL, signal: AbortSignal): Promise<RobotsVerdict> {
    const rules = await this.rulesFor(url.origin, signal);
    if (rules.kind === 'allow-all') return { allowed: true, crawlDelayMs: null };
    if (rules.kind === 'disallow-all') return { allowed: false, crawlDelayMs: null };
    const allowed = rules.robots.isAllowed(url.href, this.userAgent) ?? true;
    const delay = rules.robots.getCrawlDelay(this.userAgent);
    return { allowed, crawlDelayMs: typeof delay === 'number' && delay > 0 ? delay * 1000 : null };
  }

  private rulesFor(origin: string, signal: AbortSignal): Promise<Rules> {
    let rules = this.cache.get(origin);
    if (!rules) {
      if (this.cache.size >= MAX_ORIGINS) this.cache.delete(this.cache.keys().next().value as string);
      rules = this.load(origin, signal);
      this.cache.set(origin, rules);
    }
    return rules;
  }

  private async load(origin: string, signal: AbortSignal): Promise<Rules> {
    const robotsUrl = new URL('/robots.txt', origin);
    const settings = { ...this.client, maxBytes: ROBOTS_MAX_BYTES };
    try {
      let target = robotsUrl;
      let headers = settings.headers;
      for (let redirects = 0; ; redirects++) {
        const res = await fetchOnce(this.dispatcher, target, 'GET', true, settings, signal, headers);
        if (res.location !== null) {
          // RFC 9309 §2.3.1.2: follow at least five redirects; beyond that the file counts as unavailable.
          if (redirects >= ROBOTS_MAX_REDIRECTS) return { kind: 'allow-all' };
          const hop = nextHop(target, res.location, headers);
          if (hop instanceof FetchError) return { kind: 'allow-all' };
          target = hop.url;
          headers = hop.headers;
          continue;
        }
        if (res.status >= 200 && res.status < 300) {
          // Rules fetched through a redirect still govern the origin that was asked (RFC 9309 §2.3.1.2).
          const text = new TextDecoder('utf-8').decode(res.body ?? new Uint8Array());
          return { kind: 'parsed', robots: compileRobots(robotsUrl.href, text) };
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 429) return { kind: 'allow-all' };
        return { kind: 'disallow-all' };
      }
    } catch {
      return { kind: 'disallow-all' };
    }
  }
}
