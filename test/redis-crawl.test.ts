import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisQueue } from '../src/frontier/redis-queue.js';
import { RedisCrawl, type CrawlCompletion, type CrawlRequest } from '../src/frontier/redis-crawl.js';
import { findRedis, REDIS_MISSING, startRedis, type RedisServer } from './fixtures/redis.js';
import { rng } from './fixtures/rng.mjs';

/** The crawl scripts' edge cases (redis-crawl-scripts.ts), one script call at a time, against a real redis-server. */

const redisBinary = findRedis();
if (!redisBinary) console.warn(`skipping test/redis-crawl.test.ts: ${REDIS_MISSING}`);

type Queue = Awaited<ReturnType<typeof RedisQueue.connect>>;

const seed = (url: string): CrawlRequest => ({ url, host: new URL(url).host, payload: JSON.stringify({ $crawl: { u: url, d: 0, r: null, s: url }, item: url }) });
const link = (url: string, depth: number): CrawlRequest => ({ url, host: new URL(url).host, payload: JSON.stringify({ $crawl: { u: url, d: depth, r: 'http://a.test/', s: 'http://a.test/' } }) });
const page = (id: string, depth: number, links: CrawlRequest[], claims: string[] = []): CrawlCompletion => ({ id, row: JSON.stringify({ id }), ok: true, depth, links, claims, outOfScope: 0, filtered: 0 });

describe.skipIf(!redisBinary)('the crawl scripts against a real redis-server', () => {
  let server: RedisServer;
  const open: Queue[] = [];
  let jobs = 0;

  async function job(maxPages = Infinity): Promise<{ queue: Queue; crawl: RedisCrawl }> {
    const queue = await RedisQueue.connect(server.url, `c${++jobs}`);
    open.push(queue);
    await queue.define({ perHost: 100, run: null });
    const crawl = new RedisCrawl(queue);
    await crawl.define(maxPages);
    return { queue, crawl };
  }

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const q of open) await q.close().catch(() => {});
    await server?.stop();
  });

  it('a level is promoted only once the level before has nothing pending or leased, in chunks of the size asked', async () => {
    const { queue, crawl } = await job();
    expect(await crawl.seed([seed('http://a.test/')])).toEqual({ added: 1, duplicates: 0, overMaxPages: 0 });
    const [root] = await queue.claim('w1', 10, 60_000);
    // Links of depth 1 from a page not yet complete: nothing to promote while it is leased.
    expect(await crawl.promote(2)).toMatchObject({ depth: 0, moved: 0, left: 1 });
    const links = Array.from({ length: 5 }, (_, i) => link(`http://a.test/${i}`, 1));
    expect(await crawl.complete('w1', [page(root!.id, 1, links)])).toEqual([true]);
    expect((await crawl.status())!.staged).toBe(5);
    expect(await crawl.promote(2)).toMatchObject({ depth: 1, moved: 2 });
    // The rest of the level comes in later chunks, while the first ones are already being worked.
    const taken = await queue.claim('w1', 10, 60_000);
    expect(taken).toHaveLength(2);
    expect(await crawl.promote(2)).toMatchObject({ depth: 1, moved: 2 });
    expect(await crawl.promote(2)).toMatchObject({ depth: 1, moved: 1 });
    expect(await crawl.promote(2)).toMatchObject({ depth: 1, moved: 0 });
    expect((await crawl.status())!).toMatchObject({ depth: 1, staged: 0, admitted: 6, seen: 6 });
  });

  it('a completion without the lease writes no row and offers no links; the one with it offers them once', async () => {
    const { queue, crawl } = await job();
    await crawl.seed([seed('http://a.test/')]);
    const [root] = await queue.claim('w1', 1, 60_000);
    const links = [link('http://a.test/x', 1), link('http://a.test/x', 1), link('http://a.test/', 1)];
    expect(await crawl.complete('w2', [page(root!.id, 1, links)])).toEqual([false]);
    expect((await crawl.status())!).toMatchObject({ staged: 0, seen: 1 });
    expect(await crawl.complete('w1', [page(root!.id, 1, links)])).toEqual([true]);
    // The link twice on the page and the seed itself are duplicates.
    expect((await crawl.status())!).toMatchObject({ staged: 1, seen: 2, duplicates: 2 });
    // A second completion of a final row writes nothing, offers nothing.
    expect(await crawl.complete('w1', [page(root!.id, 1, [link('http://a.test/y', 1)])])).toEqual([false]);
    expect((await crawl.status())!.seen).toBe(2);
    expect((await queue.results()).length).toBe(1);
  });

  it('maxPages counts seeds and links admitted, fleet-wide; a redirect target does not count', async () => {
    const { queue, crawl } = await job(3);
    expect(await crawl.seed([seed('http://a.test/'), seed('http://a.test/'), seed('http://b.test/'), seed('http://c.test/'), seed('http://d.test/')])).toEqual({ added: 3, duplicates: 1, overMaxPages: 1 });
    const claimed = await queue.claim('w1', 10, 60_000);
    expect(await crawl.claimUrl('http://a.test/landing', claimed[0]!.id)).toBe(true);
    expect(await crawl.complete('w1', [page(claimed[0]!.id, 1, [link('http://a.test/1', 1)])])).toEqual([true]);
    expect((await crawl.status())!).toMatchObject({ admitted: 3, overMaxPages: 2, staged: 0, seen: 4 });
  });

  it('a redirect target claimed by a request may be claimed again by that request (run again after its worker died), by no other', async () => {
    const { queue, crawl } = await job();
    await crawl.seed([seed('http://a.test/'), seed('http://a.test/2')]);
    const [a, b] = await queue.claim('w1', 10, 60_000);
    expect(await crawl.claimUrl('http://a.test/landing', a!.id)).toBe(true);
    expect(await crawl.claimUrl('http://a.test/landing', a!.id)).toBe(true);
    expect(await crawl.claimUrl('http://a.test/landing', b!.id)).toBe(false);
    expect(await crawl.claimUrl('http://a.test/', '')).toBe(false);
    // Once a's row is final its claim is let go of: the URL stays seen.
    await crawl.complete('w1', [page(a!.id, 1, [], ['http://a.test/landing'])]);
    expect(await crawl.claimUrl('http://a.test/landing', a!.id)).toBe(false);
  });

  it('a link found at a depth the crawl has passed (a seed enqueued into a running crawl) is queued at once, not staged for ever', async () => {
    const { queue, crawl } = await job();
    await crawl.seed([seed('http://a.test/')]);
    const [root] = await queue.claim('w1', 1, 60_000);
    await crawl.complete('w1', [page(root!.id, 1, [link('http://a.test/1', 1)])]);
    expect(await crawl.promote()).toMatchObject({ depth: 1, moved: 1 });
    await crawl.seed([seed('http://b.test/')]);
    const taken = await queue.claim('w1', 10, 60_000);
    const late = taken.find((c) => c.payload.includes('b.test'))!;
    await crawl.complete('w1', [page(late.id, 1, [link('http://b.test/1', 1)])]);
    expect((await crawl.status())!.staged).toBe(0);
    expect((await queue.status()).pending).toBe(1);
  });

  it('fuzz: simulated workers on random graphs, finishing in random order and dying mid-page, give each reachable page one row at its breadth-first depth', async () => {
    const base = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 1e9));
    console.info(`crawl scripts fuzz: FUZZ_SEED=${base}`);
    for (let round = 0; round < 6; round++) {
      const seedValue = base + round;
      const random = rng(seedValue);
      const nodes = 40 + Math.floor(random() * 80);
      const maxDepth = 1 + Math.floor(random() * 5);
      const edges = Array.from({ length: nodes }, () => Array.from({ length: Math.floor(random() * 5) }, () => Math.floor(random() * nodes)));
      const url = (n: number): string => `http://h${n % 4}.test/${n}`;
      // The answer: breadth-first depths from node 0, up to maxDepth.
      const expected = new Map<string, number>([[url(0), 0]]);
      for (let d = 0, level = [0]; d < maxDepth; d++) {
        const next: number[] = [];
        for (const n of level) for (const m of edges[n]!) if (!expected.has(url(m))) (expected.set(url(m), d + 1), next.push(m));
        level = next;
      }
      const { queue, crawl } = await job();
      await crawl.seed([seed(url(0))]);
      const workers = ['w1', 'w2', 'w3'];
      const held = new Map<string, { id: string; node: number; depth: number }[]>(workers.map((w) => [w, []]));
      for (let steps = 0; ; steps++) {
        expect(steps, `FUZZ_SEED=${seedValue}: the crawl does not end`).toBeLessThan(20_000);
        const w = workers[Math.floor(random() * workers.length)]!;
        const mine = held.get(w)!;
        const action = random();
        if (action < 0.4) {
          for (const c of await queue.claim(w, 1 + Math.floor(random() * 4), 40)) {
            const { $crawl } = JSON.parse(c.payload) as { $crawl: { u: string; d: number } };
            mine.push({ id: c.id, node: Number(new URL($crawl.u).pathname.slice(1)), depth: $crawl.d });
          }
        } else if (action < 0.85 && mine.length > 0) {
          // Pages finish in any order, a few at a time.
          const done = mine.splice(Math.floor(random() * mine.length), 1 + Math.floor(random() * 2));
          const links = (p: { node: number; depth: number }): CrawlRequest[] => (p.depth < maxDepth ? edges[p.node]!.map((m) => link(url(m), p.depth + 1)) : []);
          await crawl.complete(w, done.map((p) => ({ ...page(p.id, p.depth + 1, links(p)), row: JSON.stringify({ url: url(p.node), depth: p.depth }) })));
        } else if (action < 0.88 && mine.length > 0) {
          // The worker dies: what it held comes back once its lease (40 ms) runs out and someone reaps.
          mine.length = 0;
        } else {
          await queue.reap(1000);
          const level = await crawl.promote(1 + Math.floor(random() * 5));
          if (level.moved === 0 && level.left === 0 && [...held.values()].every((h) => h.length === 0)) break;
          if (level.left > 0 && level.moved === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      const rows = (await queue.results(null, 100_000)).map((r) => JSON.parse(r.row) as { url: string; depth: number });
      const got = new Map(rows.map((r) => [r.url, r.depth]));
      expect(got.size, `FUZZ_SEED=${seedValue}: one row per URL`).toBe(rows.length);
      expect(got, `FUZZ_SEED=${seedValue}: the breadth-first depths`).toEqual(expected);
      const status = (await crawl.status())!;
      expect(status.admitted, `FUZZ_SEED=${seedValue}`).toBe(expected.size);
      expect(status.deepest, `FUZZ_SEED=${seedValue}`).toBe(Math.max(...expected.values()));
    }
  }, 120_000);

  it('the crawl scripts refuse a job that is not a crawl, by a stable code', async () => {
    const queue = await RedisQueue.connect(server.url, `c${++jobs}`);
    open.push(queue);
    await queue.define({ run: null });
    const crawl = new RedisCrawl(queue);
    expect(await crawl.status()).toBeNull();
    await expect(crawl.promote()).rejects.toThrow(/VOLLEY_NO_CRAWL/);
  });
});
