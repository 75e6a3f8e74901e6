import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, RedisQueue } from '../src/frontier/redis-queue.js';
import { workQueue } from '../src/queue/worker.js';
import { createTestServer, type TestServer } from './fixtures/server.js';
import { findRedis, REDIS_MISSING, startRedis, type RedisServer } from './fixtures/redis.js';

/**
 * What a worker leases (issue 21): as many requests as its concurrency, never more (no buffer claimed ahead: bench W8
 * measured it slower), all of them counted leased by `status`, and an abort puts every one of them back at once.
 */

const redisBinary = findRedis();
if (!redisBinary) console.warn(`skipping test/queue-worker-leases.test.ts: ${REDIS_MISSING}`);

type Queue = Awaited<ReturnType<typeof RedisQueue.connect>>;

/** Polls `check` until it holds (no timing assert: the test's own timeout is the limit). */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe.skipIf(!redisBinary)('a worker leases its concurrency, and gives it all back on abort', () => {
  let redis: RedisServer;
  let site: TestServer;
  const open: Queue[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    site = await createTestServer();
  });
  afterAll(async () => {
    for (const q of open) await q.close().catch(() => undefined);
    await site?.close();
    await redis?.stop();
  });

  // Up to 8: the pipeline's own per-host default (the job here has no run settings), all URLs on one host.
  it.each([1, 4, 8])('-c %i: leases that many at most, all counted leased; abort releases every one', async (concurrency) => {
    const job = `leases${concurrency}`;
    const q = await RedisQueue.connect(redis.url, job);
    const watcher = await RedisQueue.connect(redis.url, job);
    open.push(q, watcher);
    await q.define({ perHost: 1000, run: null });
    const total = concurrency * 3 + 5;
    const host = new URL(site.url).host;
    const urls = Array.from({ length: total }, (_, i) => `${site.url}/hang?k=${concurrency}-${i}`);
    await q.enqueue(urls.map((url) => ({ key: fingerprint({ url }), host, payload: JSON.stringify(url) })));
    const bound = concurrency;

    const controller = new AbortController();
    let maxLeased = 0;
    const rows: string[] = [];
    const working = workQueue(q, null, { worker: 'w1', concurrency, wait: false, signal: controller.signal, onRow: (row) => rows.push(row) });
    await until(async () => {
      const { leased } = await watcher.status();
      maxLeased = Math.max(maxLeased, leased);
      return leased === bound;
    });
    // Each leased request is in flight at the site.
    const reached = (): number => urls.filter((url) => site.hits(new URL(url).pathname + new URL(url).search) > 0).length;
    await until(async () => reached() >= concurrency);
    controller.abort();
    const { written, released } = await working;
    expect(maxLeased).toBe(bound);
    expect(reached()).toBe(concurrency);
    expect({ written, released, rows }).toEqual({ written: 0, released: bound, rows: [] });
    // Back at once (no reap ran, the lease is minutes long), nothing final.
    expect(await watcher.status()).toMatchObject({ pending: total, leased: 0, ok: 0, failed: 0 });
  });
});
