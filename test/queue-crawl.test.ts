import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createCrawlSite, type CrawlSite } from './fixtures/crawl-site.js';
import { findRedis, REDIS_MISSING, startRedis, type RedisServer } from './fixtures/redis.js';
import { start, until } from './fixtures/volley-cli.js';

/**
 * Crawls through the shared queue (issue 21, DESIGN.md "Third round"): `volley enqueue --follow` / `--sitemap` and
 * several `volley work` processes, through the built CLI, against a real redis-server and the crawl fixture site (a
 * seeded link graph with redirects, robots.txt, nofollow, an endless calendar). The answer is always the local
 * crawl's: the same rows (URLs and depths), each once.
 */

const redisBinary = findRedis();
if (!redisBinary) console.warn(`skipping test/queue-crawl.test.ts: ${REDIS_MISSING}`);

const running = new Set<ChildProcess>();

/** `volley ARGS` to its end, killed by afterAll should a test time out first. */
async function volley(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = start(args, env);
  running.add(run.child);
  const code = await run.done;
  running.delete(run.child);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

interface Row {
  url: string;
  ok: boolean;
  status: number | null;
  depth: number;
  referrer: string | null;
  lastmod?: string | null;
  sitemap?: boolean;
  error: { code: string } | null;
}

const rowsOf = (text: string): Row[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row);

/** url -> depth, failing on a URL with two rows. */
function depths(rows: Row[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    expect(out.has(r.url), `two rows for ${r.url}`).toBe(false);
    out.set(r.url, r.depth);
  }
  return out;
}

/** What differs between two crawls' rows, in words (empty when none): URLs, depths, status. */
function difference(local: Row[], queue: Row[]): string[] {
  const a = new Map(local.map((r) => [r.url, r]));
  const b = new Map(queue.map((r) => [r.url, r]));
  const out: string[] = [];
  for (const [url, r] of a) {
    const q = b.get(url);
    if (q === undefined) out.push(`missing from the queue crawl: ${url} (depth ${r.depth})`);
    else if (q.depth !== r.depth || q.status !== r.status || q.ok !== r.ok) out.push(`${url}: local depth ${r.depth} status ${r.status}, queue depth ${q.depth} status ${q.status}`);
  }
  for (const url of b.keys()) if (!a.has(url)) out.push(`only in the queue crawl: ${url}`);
  return out;
}

describe.skipIf(!redisBinary)('a crawl through the shared queue (volley enqueue --follow, volley work)', () => {
  let redis: RedisServer;
  let site: CrawlSite;
  let jobs = 0;
  const target = (): string[] => ['--redis', redis.url, '--job', `crawl${++jobs}`];

  beforeAll(async () => {
    redis = await startRedis();
    // Responses after a random delay (up to 15 ms): pages finish out of order, on every worker.
    site = await createCrawlSite(20, -15);
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await site?.close();
    await redis?.stop();
  });

  /** Enqueues a crawl, runs `workers` workers at once to the end, and returns the job's rows. */
  async function queueCrawl(t: string[], seeds: string[], flags: string[], workers = 3, env: Record<string, string> = {}): Promise<Row[]> {
    const enq = await volley(['enqueue', ...t, ...seeds, ...flags]);
    expect(enq.code, enq.stderr).toBe(0);
    const runs = await Promise.all(Array.from({ length: workers }, () => volley(['work', ...t, '-c', '4', '-q'], env)));
    for (const w of runs) expect(w.code, w.stderr).toBe(0);
    const results = await volley(['queue', 'results', ...t]);
    expect(results.code, results.stderr).toBe(0);
    return rowsOf(results.stdout);
  }

  async function localCrawl(seeds: string[], flags: string[]): Promise<Row[]> {
    const run = await volley([...seeds, ...flags]);
    expect([0, 1]).toContain(run.code);
    return rowsOf(run.stdout);
  }

  it('three workers crawl the site: the rows of a local --follow crawl, same URLs and depths, each once', async () => {
    const flags = ['--follow', '--depth', '3'];
    const local = await localCrawl([`${site.url}/`], flags);
    const t = target();
    const queue = await queueCrawl(t, [`${site.url}/`], flags);
    depths(queue);
    expect(difference(local, queue)).toEqual([]);
    expect(queue.length).toBe(local.length);
    expect(queue.length).toBeGreaterThanOrEqual(30);
    // The breadth-first answer computed from the graph itself.
    const reference = site.reference({ depth: 3, robots: true });
    for (const [url, depth] of reference) expect(queue.find((r) => r.url === url)?.depth, url).toBe(depth);
    for (const r of queue) {
      if (r.depth > 0) expect(r.referrer, r.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
      else expect(r.referrer).toBeNull();
    }
    const status = JSON.parse((await volley(['queue', 'status', ...t, '--json'])).stdout) as { pending: number; leased: number; crawl: { seen: number; depth: number; staged: number; admitted: number } };
    expect(status).toMatchObject({ pending: 0, leased: 0 });
    expect(status.crawl).toMatchObject({ depth: 3, staged: 0, admitted: queue.length });
    // Redirect targets are seen too (/landing, claimed by /hop1's redirect).
    expect(status.crawl.seen).toBeGreaterThanOrEqual(queue.length);
    const text = (await volley(['queue', 'status', ...t])).stdout;
    expect(text).toMatch(/crawl: depth 3 .*seen \d+/);
  }, 60_000);

  it('random link graphs (seeded): the queue crawl with 3 workers gives the local crawl rows', async () => {
    const base = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 1e9));
    console.info(`queue crawl fuzz: FUZZ_SEED=${base}`);
    for (let i = 0; i < 3; i++) {
      const seed = base + i;
      const graph = await createCrawlSite(seed, -10);
      try {
        const flags = ['--follow', '--depth', String(2 + (seed % 3)), '--no-respect-robots'];
        const local = await localCrawl([`${graph.url}/`], flags);
        const queue = await queueCrawl(target(), [`${graph.url}/`], flags);
        expect(difference(local, queue), `FUZZ_SEED=${seed} reproduces this`).toEqual([]);
        expect(queue.length, `FUZZ_SEED=${seed}`).toBe(new Set(queue.map((r) => r.url)).size);
      } finally {
        await graph.close();
      }
    }
  }, 120_000);

  it('--max-pages with 3 workers: exactly that many rows, fleet-wide', async () => {
    const t = target();
    const queue = await queueCrawl(t, [`${site.url}/`], ['--follow', '--depth', '5', '--max-pages', '17']);
    expect(queue.length).toBe(17);
    depths(queue);
    const status = JSON.parse((await volley(['queue', 'status', ...t, '--json'])).stdout) as { crawl: { admitted: number; overMaxPages: number; maxPages: number } };
    expect(status.crawl).toMatchObject({ admitted: 17, maxPages: 17 });
    expect(status.crawl.overMaxPages).toBeGreaterThan(0);
  }, 60_000);

  it('a worker SIGKILLed mid-crawl: the others finish it, nothing lost, each URL once', async () => {
    // Each page takes a second: with -c 2 the doomed worker holds leases for most of the crawl.
    const slow = await createCrawlSite(20, 1000);
    try {
      const flags = ['--follow', '--depth', '3'];
      const local = await localCrawl([`${slow.url}/`], flags);
      const t = target();
      expect((await volley(['enqueue', ...t, `${slow.url}/`, ...flags])).code).toBe(0);
      const env = { VOLLEY_TEST_LEASE_MS: '1500' };
      const doomed = start(['work', ...t, '-c', '2'], env);
      running.add(doomed.child);
      // Killed once it has written rows and holds leases (pages fetched or being fetched, their rows not yet written):
      // the others start after, so those leases can only be finished by them, after a reap.
      const leased = async (): Promise<number> => (JSON.parse((await volley(['queue', 'status', ...t, '--json'])).stdout) as { leased: number }).leased;
      await until(async () => rowsOf(doomed.stdout()).length >= 3 && (await leased()) > 0);
      doomed.child.kill('SIGKILL');
      await doomed.done;
      running.delete(doomed.child);
      expect(await leased()).toBeGreaterThan(0);
      const others = Promise.all([volley(['work', ...t, '-c', '4', '-q'], env), volley(['work', ...t, '-c', '4', '-q'], env)]);
      for (const w of await others) expect(w.code, w.stderr).toBe(0);
      const queue = rowsOf((await volley(['queue', 'results', ...t])).stdout);
      depths(queue);
      expect(difference(local, queue)).toEqual([]);
    } finally {
      await slow.close();
    }
  }, 120_000);

  it('a worker stopped with SIGINT mid-crawl puts what it holds back at once (nothing leased after), exits 130; another finishes the crawl', async () => {
    // Each page takes a second: with -c 2 the worker holds leases for most of the crawl.
    const slow = await createCrawlSite(20, 1000);
    try {
      const flags = ['--follow', '--depth', '2'];
      const local = await localCrawl([`${slow.url}/`], flags);
      const t = target();
      expect((await volley(['enqueue', ...t, `${slow.url}/`, ...flags])).code).toBe(0);
      const status = async (): Promise<{ leased: number; pending: number }> => JSON.parse((await volley(['queue', 'status', ...t, '--json'])).stdout) as { leased: number; pending: number };
      const stopped = start(['work', ...t, '-c', '2']);
      running.add(stopped.child);
      await until(async () => rowsOf(stopped.stdout()).length >= 2 && (await status()).leased > 0);
      stopped.child.kill('SIGINT');
      expect(await stopped.done).toBe(130);
      running.delete(stopped.child);
      // No lease left to expire: the requests it held are pending again, for anyone.
      expect((await status()).leased).toBe(0);
      const rest = await volley(['work', ...t, '-c', '4', '-q']);
      expect(rest.code, rest.stderr).toBe(0);
      const queue = rowsOf((await volley(['queue', 'results', ...t])).stdout);
      depths(queue);
      expect(difference(local, queue)).toEqual([]);
    } finally {
      await slow.close();
    }
  }, 120_000);

  it('sitemaps are read by the enqueuer: the rows of a local --sitemap run (lastmod, the broken sitemap row), each once', async () => {
    const flags = ['--sitemap', `${site.url}/sitemap-index.xml`, '--sitemap', `${site.url}/sitemap.txt`, '--sitemap', `${site.url}/broken.xml`];
    const local = await localCrawl([], flags);
    const t = target();
    const queue = await queueCrawl(t, [], flags);
    depths(queue);
    expect(difference(local, queue)).toEqual([]);
    const byUrl = (rows: Row[]): Record<string, unknown> => Object.fromEntries(rows.map((r) => [r.url, { lastmod: r.lastmod, sitemap: r.sitemap, depth: r.depth }]));
    expect(byUrl(queue)).toEqual(byUrl(local));
    expect(queue.find((r) => r.url === `${site.url}/p/10`)?.lastmod).toBe('2026-11-01');
    expect(queue.some((r) => r.sitemap === true && r.url.endsWith('/broken.xml'))).toBe(true);
  }, 60_000);

  it('sitemap seeds and a followed crawl together, then enqueue again: seen seeds are dropped', async () => {
    const t = target();
    const flags = ['--follow', '--depth', '1', '--sitemap', `${site.url}/sitemap.txt`];
    const first = await volley(['enqueue', ...t, `${site.url}/`, ...flags]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('3 added');
    const again = await volley(['enqueue', ...t, `${site.url}/`, `${site.url}/p/30`, ...flags]);
    expect(again.stderr).toContain('0 added (a crawl), 4 already seen');
  });

  it('enqueueing into a crawl job with other crawl rules (or as a plain list) is exit 2, naming the difference', async () => {
    const t = target();
    expect((await volley(['enqueue', ...t, `${site.url}/`, '--follow', '--depth', '2'])).code).toBe(0);
    const deeper = await volley(['enqueue', ...t, `${site.url}/p/3`, '--follow', '--depth', '4']);
    expect(deeper.code).toBe(2);
    expect(deeper.stderr).toMatch(/crawl is .*"depth":2.* in the job, .*"depth":4.* here/);
    const plain = await volley(['enqueue', ...t, `${site.url}/p/3`]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/crawl is .* in the job, unset here/);
  });

  it('--dedupe with a crawl is a usage error that says why', async () => {
    const run = await volley(['enqueue', ...target(), `${site.url}/`, '--follow', '--dedupe']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--dedupe .*seen set/);
  });
});
