import type { FetchResult } from '../result.js';
import type { NormalizedFollow } from '../crawl/follow-options.js';
import { linksToFollow, pageOf } from '../crawl/follow-links.js';
import type { Found, Frontier, FrontierStats, FrontierWork } from './frontier.js';
import type { ClaimedRequest, RedisQueue } from './redis-queue.js';
import { RedisCrawl, type CrawlCompletion, type CrawlRequest } from './redis-crawl.js';
import { Wakeup } from '../sleep.js';

/** How the job's payloads read and are written (queue/crawl-payload.ts: the job's settings decide the items). */
export interface CrawlCodec {
  /** A claimed payload as the work the pipeline gets. */
  work(payload: string): FrontierWork;
  /** A link found on `page`, offered at `depth`. */
  link(key: string, depth: number, page: string, scopeBase: string): CrawlRequest;
  /** The LEASE_EXPIRED row of a payload whose lease expired too often. */
  expiredRow(payload: string, expiries: number): string;
}

/**
 * One worker's window onto a crawl whose frontier lives in Redis (DESIGN.md "Third round": one interface, two
 * homes). `runCrawl` drives it exactly as it drives the local frontier, so the rules for links (follow-links.ts),
 * depth, robots and nofollow are the same code; what differs is where the state is:
 *
 * - `next` claims a batch of requests from the job (the queue's CLAIM: per-host gates fleet-wide), hands them out
 *   one at a time, and when the job has nothing ready promotes the next level's staged links (CRAWL_PROMOTE) once
 *   the level before is done everywhere: breadth-first across the fleet. It ends when nothing is pending, leased or
 *   staged in the whole job.
 * - `finished` sends the page's final row with the links that passed the rules: one script writes the row (the
 *   lease check, one final row) and offers the links to the seen set and `maxPages` in the same step, so a worker
 *   that dies before it loses neither (its request is run again, and offers them then). Completions batch
 *   themselves: rows that finish while one round trip is out go in the next.
 * - `claim` (a redirect's target) asks the seen set, keyed by the request that claims it, so the same request run
 *   again after its worker died may claim it again.
 * - Leases are renewed while held, expired ones reaped; `settle()` (after the crawl) releases what is still held.
 */

export interface RedisFrontierOptions {
  worker: string;
  /** Requests held (claimed, not yet completed) at most. */
  concurrency: number;
  leaseMs: number;
  /** Keep waiting when the job is empty (`volley work --wait`). */
  wait: boolean;
  signal: AbortSignal;
  follow: NormalizedFollow;
  codec: CrawlCodec;
  /** A row as the results stream stores it (JSON; `--body`'s form). */
  rowText(row: FetchResult): string;
  /** A row this worker's completion wrote. */
  onRow(row: string): void;
  /** Leases that expired this many times end with a LEASE_EXPIRED row. */
  maxLeaseExpiries: number;
}

/** How long an idle worker waits before asking again. */
const POLL_MS = 200;

export class RedisFrontier implements Frontier {
  readonly stats: FrontierStats = { requested: 0, outOfScope: 0, filtered: 0, duplicates: 0, overMaxPages: 0, depth: 0, sitemapOtherHost: 0, sitemapOlder: 0 };
  readonly crawl: RedisCrawl;
  /** Claimed and not yet completed (or released), by id. */
  private readonly held = new Map<string, ClaimedRequest>();
  /** Claimed, not yet handed out. */
  private readonly ready: FrontierWork[] = [];
  private readonly idOf = new Map<FrontierWork, string>();
  /** The id of each request in flight, by the URL its row names (a redirect's `by`), and back. */
  private readonly byName = new Map<string, string>();
  private readonly nameOfId = new Map<string, string>();
  /** URLs each request's redirects claimed. */
  private readonly claims = new Map<string, string[]>();
  private completions: CrawlCompletion[] = [];
  private flushing: Promise<void> | null = null;
  private flushError: unknown = null;
  /** Completions, close and abort wake the claim loop (a wait also ends after POLL_MS). */
  private readonly wakeup = new Wakeup();
  private closed = false;
  private lastReap = 0;
  private readonly renewTimer: NodeJS.Timeout;
  private readonly reapTimer: NodeJS.Timeout;
  /** Rows this worker's completions wrote. */
  written = 0;

  constructor(
    private readonly queue: RedisQueue,
    private readonly options: RedisFrontierOptions,
  ) {
    this.crawl = new RedisCrawl(queue);
    const { leaseMs } = options;
    // Leases renewed (and the worker seen alive) well before they run out; expired ones reaped now and then.
    this.renewTimer = setInterval(() => void queue.renew(options.worker, [...this.held.keys()], leaseMs).catch(() => {}), Math.max(100, Math.floor(leaseMs / 3)));
    this.reapTimer = setInterval(() => void this.reap().catch(() => {}), Math.max(200, Math.min(5_000, Math.floor(leaseMs / 2))));
  }

  async next(): Promise<FrontierWork | null> {
    const { signal, concurrency, worker, leaseMs } = this.options;
    for (;;) {
      if (this.closed || signal.aborted) return null;
      if (this.flushError !== null) throw this.flushError;
      const work = this.ready.shift();
      if (work !== undefined) {
        if (work.entry !== null) {
          this.stats.requested++;
          this.stats.depth = Math.max(this.stats.depth, work.entry.depth);
        }
        return work;
      }
      if (this.held.size >= concurrency) {
        await this.wakeup.wait(POLL_MS, this.options.signal);
        continue;
      }
      const claimed = await this.queue.claim(worker, concurrency - this.held.size, leaseMs);
      if (claimed.length > 0) {
        for (const c of claimed) this.take(c);
        continue;
      }
      // Nothing ready: our own completions first (their links may be the next level), then the next level.
      while (this.flushing !== null) await this.flushing;
      const level = await this.crawl.promote();
      if (level.moved > 0) continue;
      // Leases of our own are still finishing (they may find links); anyone else's may come back after a reap.
      if (!this.options.wait && level.left === 0 && this.held.size === 0) return null;
      if (Date.now() - this.lastReap >= 1_000) await this.reap().catch(() => {});
      await this.wakeup.wait(POLL_MS, this.options.signal);
    }
  }

  finished(work: FrontierWork, found: Found, row: FetchResult): void {
    const id = this.idOf.get(work);
    if (id === undefined) return;
    this.idOf.delete(work);
    // An abort's CANCELLED rows are not final: those requests go back to the queue (settle).
    if (this.options.signal.aborted && row.error?.code === 'CANCELLED') return;
    const entry = work.entry;
    const counts = { outOfScope: 0, filtered: 0 };
    const links = [];
    if (entry !== null) {
      const page = pageOf(entry, found);
      for (const key of linksToFollow(entry, found, this.options.follow, counts)) links.push(this.options.codec.link(key, entry.depth + 1, page, entry.scopeBase));
      this.stats.outOfScope += counts.outOfScope;
      this.stats.filtered += counts.filtered;
    }
    const claims = this.claims.get(id) ?? [];
    this.claims.delete(id);
    this.completions.push({ id, row: this.options.rowText(row), ok: row.ok, depth: (entry?.depth ?? 0) + 1, links, claims, ...counts });
    this.kick();
  }

  /**
   * Starts a flush unless one is running. Again once it ends: a completion that came after the flush's last look and
   * before its end would otherwise wait for one more page, and the last page of a crawl has none after it.
   */
  private kick(): void {
    if (this.flushing !== null || this.completions.length === 0 || this.flushError !== null) return;
    this.flushing = this.flush()
      .catch((err: unknown) => void (this.flushError ??= err))
      .finally(() => {
        this.flushing = null;
        this.wakeup.notify();
        this.kick();
      });
  }

  async claim(url: string, by?: string): Promise<boolean> {
    const id = by === undefined ? undefined : this.byName.get(by);
    try {
      const claimed = await this.crawl.claimUrl(url, id ?? '');
      if (!claimed) this.stats.duplicates++;
      else if (id !== undefined) this.claims.set(id, [...(this.claims.get(id) ?? []), url]);
      return claimed;
    } catch {
      // Redis out of reach: the redirect is followed (a page fetched twice at worst, never one lost).
      return true;
    }
  }

  close(): void {
    this.closed = true;
    this.wakeup.notify();
  }

  /**
   * After the crawl (or its abort): waits for the completions still on their way, stops the timers, and puts the
   * requests still held back in the job at once. Returns how many were put back.
   */
  async settle(): Promise<number> {
    this.close();
    try {
      while (this.flushing !== null) await this.flushing;
    } finally {
      clearInterval(this.renewTimer);
      clearInterval(this.reapTimer);
    }
    let released = 0;
    if (this.held.size > 0) {
      released = await this.queue.release(this.options.worker, [...this.held.keys()]);
      this.held.clear();
    }
    // Best effort: a worker that could not say so drops out of the live count when its heartbeat ages out.
    await this.queue.leave(this.options.worker).catch(() => {});
    if (this.flushError !== null) throw this.flushError;
    return released;
  }

  private take(c: ClaimedRequest): void {
    this.held.set(c.id, c);
    const work = this.options.codec.work(c.payload);
    this.idOf.set(work, c.id);
    const name = nameOf(work.item);
    if (name !== null) {
      this.byName.set(name, c.id);
      this.nameOfId.set(c.id, name);
    }
    this.ready.push(work);
  }

  private async flush(): Promise<void> {
    while (this.completions.length > 0) {
      const batch = this.completions;
      this.completions = [];
      const wrote = await this.crawl.complete(this.options.worker, batch);
      batch.forEach((page, i) => {
        this.held.delete(page.id);
        const name = this.nameOfId.get(page.id);
        this.nameOfId.delete(page.id);
        if (name !== undefined && this.byName.get(name) === page.id) this.byName.delete(name);
        if (wrote[i] === true) {
          this.written++;
          this.options.onRow(page.row);
        }
      });
      this.wakeup.notify();
    }
  }

  private async reap(): Promise<void> {
    this.lastReap = Date.now();
    await this.queue.reap(this.options.maxLeaseExpiries, { rowFor: this.options.codec.expiredRow });
  }
}

/** The URL a row names for a source item (the pipeline's `input`): a string, or a request object's `url`. */
function nameOf(item: unknown): string | null {
  if (typeof item === 'string') return item;
  const url = (item as { url?: unknown } | null)?.url;
  return typeof url === 'string' ? url : null;
}
