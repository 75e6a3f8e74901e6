import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fingerprint, RedisQueue, type QueueRequest } from '../src/frontier/redis-queue.js';
import { retrying } from '../src/queue/redis-retry.js';
import { findRedis, REDIS_MISSING, startRedis, type RedisServer } from './fixtures/redis.js';
import { rng as seeded } from './fixtures/rng.mjs';

const redisBinary = findRedis();
if (!redisBinary) console.warn(`skipping test/redis-queue.test.ts: ${REDIS_MISSING}`);

type Queue = Awaited<ReturnType<typeof RedisQueue.connect>>;

/** A request for `url` as the queue takes it. */
function request(url: string, meta?: unknown): QueueRequest {
  const parsed = new URL(url);
  return { key: fingerprint({ url }), host: parsed.host, payload: JSON.stringify(meta === undefined ? { url } : { url, meta }) };
}

const row = (url: string, ok = true): string => JSON.stringify({ url, ok });

describe.skipIf(!redisBinary)('RedisQueue against a real redis-server', () => {
  let server: RedisServer;
  const open: Queue[] = [];
  let jobCount = 0;

  /** A queue on a fresh job; `clients` separate connections (workers) to the same job. */
  async function queues(clients: number, settings: { perHost?: number; intervalMs?: number } = {}): Promise<Queue[]> {
    const job = `t${++jobCount}`;
    const made: Queue[] = [];
    for (let i = 0; i < clients; i++) {
      const q = await RedisQueue.connect(server.url, job);
      open.push(q);
      made.push(q);
    }
    await made[0]!.define({ perHost: 8, ...settings, run: { timeoutMs: 20_000 } });
    return made;
  }

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const q of open) await q.close().catch(() => undefined);
    await server?.stop();
  });
  beforeEach(() => {
    // every test has its own job; nothing to reset
  });

  it('round trip: enqueue, claim, complete; the row is in the results stream; nothing pending or leased after', async () => {
    const [q] = await queues(1);
    const urls = ['http://a.test/1', 'http://a.test/2', 'http://b.test/1'];
    expect(await q!.enqueue(urls.map((u) => request(u, { n: 1 })))).toEqual({ added: 3, dropped: 0 });
    const claimed = await q!.claim('w1', 10, 60_000);
    expect(claimed.map((c) => JSON.parse(c.payload).url).sort()).toEqual([...urls].sort());
    expect(claimed.every((c) => c.leases === 1)).toBe(true);
    let status = await q!.status();
    expect(status).toMatchObject({ enqueued: 3, pending: 0, leased: 3, ok: 0, failed: 0, liveWorkers: 1 });
    expect(status.oldestLeaseMs).not.toBeNull();
    for (const c of claimed) expect(await q!.complete('w1', c.id, row(JSON.parse(c.payload).url, c.id !== claimed[0]!.id), c.id !== claimed[0]!.id)).toBe(true);
    status = await q!.status();
    expect(status).toMatchObject({ pending: 0, leased: 0, ok: 2, failed: 1, oldestLeaseMs: null });
    const results = await q!.results();
    expect(results.map((r) => r.id)).toEqual(claimed.map((c) => c.id));
    // resumable by stream id
    expect((await q!.results(results[0]!.streamId)).map((r) => r.id)).toEqual(claimed.slice(1).map((c) => c.id));
    expect(await q!.settings()).toEqual({ perHost: 8, intervalMs: 0, run: { timeoutMs: 20_000 } });
    expect(await q!.drop()).toBeGreaterThan(0);
    expect(await q!.settings()).toBeNull();
  });

  it('keeps the first settings: a second define does not change the job', async () => {
    const [q] = await queues(1, { perHost: 2 });
    expect(await q!.define({ perHost: 50, intervalMs: 9, run: { other: true } })).toEqual({ perHost: 2, intervalMs: 0, run: { timeoutMs: 20_000 } });
  });

  it('refuses to enqueue into a job with no settings', async () => {
    const q = await RedisQueue.connect(server.url, 'never-defined');
    open.push(q);
    await expect(q.enqueue([request('http://a.test/')])).rejects.toThrow(/VOLLEY_NO_JOB/);
  });

  it('writes exactly one final row when two workers complete the same id (one lost its lease to a reap)', async () => {
    const [w1, w2] = await queues(2);
    await w1!.enqueue([request('http://a.test/x')]);
    const [first] = await w1!.claim('w1', 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await w2!.reap(3)).toEqual({ requeued: 1, expired: 0 });
    const [second] = await w2!.claim('w2', 1, 60_000);
    expect(second!.id).toBe(first!.id);
    expect(second!.leases).toBe(2);
    const [a, b] = await Promise.all([w1!.complete('w1', first!.id, row('late'), true), w2!.complete('w2', second!.id, row('owner'), true)]);
    expect([a, b]).toEqual([false, true]);
    expect(await w2!.complete('w2', second!.id, row('again'), true)).toBe(false);
    const results = await w1!.results();
    expect(results).toHaveLength(1);
    expect(JSON.parse(results[0]!.row).url).toBe('owner');
  });

  it('keeps the per-host limit across workers claiming at once (in flight per host never above perHost)', async () => {
    const perHost = 3;
    const workers = await queues(4, { perHost });
    const hosts = ['a.test', 'b.test', 'c.test'];
    await workers[0]!.enqueue(Array.from({ length: 90 }, (_, i) => request(`http://${hosts[i % 3]}/${i}`)));
    const inFlight = new Map<string, number>();
    let peak = 0;
    let done = 0;
    const hostOf = (payload: string): string => new URL(JSON.parse(payload).url).host;
    await Promise.all(
      workers.map(async (q, w) => {
        while (done < 90) {
          const claimed = await q.claim(`w${w}`, 5, 60_000);
          for (const c of claimed) {
            const h = hostOf(c.payload);
            inFlight.set(h, (inFlight.get(h) ?? 0) + 1);
            peak = Math.max(peak, inFlight.get(h)!);
          }
          await new Promise((resolve) => setImmediate(resolve));
          for (const c of claimed) {
            // counted down before the completion is sent: the server may hand the slot out as soon as it lands
            inFlight.set(hostOf(c.payload), inFlight.get(hostOf(c.payload))! - 1);
            expect(await q.complete(`w${w}`, c.id, row(c.payload), true)).toBe(true);
            done++;
          }
          if (claimed.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }),
    );
    expect(peak).toBe(perHost);
    expect(await workers[0]!.status()).toMatchObject({ pending: 0, leased: 0, ok: 90 });
  });

  it('spaces starts on a host by the job delay across workers, by Redis TIME', async () => {
    const [w1, w2] = await queues(2, { intervalMs: 60_000 });
    await w1!.enqueue([request('http://slow.test/1'), request('http://slow.test/2'), request('http://fast.test/1')]);
    const first = await w1!.claim('w1', 10, 60_000);
    // one per paced host per claim: slow.test/1 and fast.test/1
    expect(first.map((c) => JSON.parse(c.payload).url).sort()).toEqual(['http://fast.test/1', 'http://slow.test/1']);
    // the other worker finds slow.test's next start a minute away, though a slot is free
    expect(await w2!.claim('w2', 10, 60_000)).toEqual([]);
    const status = await w2!.status();
    expect(status.hostsWaiting).toBe(1);
    expect(status.pending).toBe(1);
  });

  it('a paused host (Retry-After) blocks that host only, for every worker', async () => {
    const [w1, w2] = await queues(2);
    await w1!.enqueue([request('http://paused.test/1'), request('http://open.test/1'), request('http://open.test/2')]);
    await w1!.hostPause('paused.test', 60_000);
    const claimed = await w2!.claim('w2', 10, 60_000);
    expect(claimed.map((c) => JSON.parse(c.payload).url).sort()).toEqual(['http://open.test/1', 'http://open.test/2']);
    expect(await w1!.claim('w1', 10, 60_000)).toEqual([]);
    expect((await w1!.status()).hostsWaiting).toBe(1);
    // a pause of 0 does not shorten the one set
    await w2!.hostPause('paused.test', 0);
    expect(await w1!.claim('w1', 10, 60_000)).toEqual([]);
  });

  it('dedupe drops a request already in the job, exactly', async () => {
    const [q] = await queues(1);
    expect(await q!.enqueue([request('http://a.test/1'), request('http://a.test/1#frag'), request('http://a.test/2')], { dedupe: true })).toEqual({ added: 2, dropped: 1 });
    expect(await q!.enqueue([request('http://a.test/2'), request('http://a.test/3')], { dedupe: true })).toEqual({ added: 1, dropped: 1 });
    expect(fingerprint({ url: 'http://a.test/', method: 'POST', body: 'x' })).not.toBe(fingerprint({ url: 'http://a.test/', method: 'POST', body: 'y' }));
    expect(fingerprint({ url: 'http://a.test/', method: 'post', json: { a: 1 } })).toBe(fingerprint({ url: 'http://a.test/', method: 'POST', body: '{"a":1}' }));
    expect((await q!.status()).duplicates).toBe(2);
  });

  it('release puts work back at the front of its host queue at once', async () => {
    const [q] = await queues(1, { perHost: 1 });
    await q!.enqueue([request('http://a.test/1'), request('http://a.test/2')]);
    const [taken] = await q!.claim('w1', 10, 60_000);
    expect(await q!.claim('w2', 10, 60_000)).toEqual([]); // at its limit
    expect(await q!.release('w2', [taken!.id])).toBe(0); // not w2's
    expect(await q!.release('w1', [taken!.id])).toBe(1);
    const [again] = await q!.claim('w2', 10, 60_000);
    expect(again!.id).toBe(taken!.id);
    expect(await q!.complete('w1', taken!.id, row('w1'), true)).toBe(false);
  });

  it('renew keeps a lease from the reaper; a lost lease is reported as such', async () => {
    const [q] = await queues(1);
    await q!.enqueue([request('http://a.test/1'), request('http://b.test/1')]);
    const [a, b] = await q!.claim('w1', 2, 1);
    expect(await q!.renew('w1', [a!.id], 60_000)).toEqual([true]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await q!.reap(3)).toEqual({ requeued: 1, expired: 0 });
    expect(await q!.renew('w1', [a!.id, b!.id], 60_000)).toEqual([true, false]);
    expect(await q!.renew('w2', [a!.id], 60_000)).toEqual([false]);
    expect(await q!.complete('w1', a!.id, row('a'), true)).toBe(true);
    expect(await q!.status()).toMatchObject({ pending: 1, leased: 0, ok: 1 });
  });

  it('reap returns expired leases, and ends a request with LEASE_EXPIRED after more than N expiries', async () => {
    const [q] = await queues(1);
    await q!.enqueue([request('http://a.test/doomed', { tag: 7 })]);
    const maxExpiries = 2;
    for (let i = 1; i <= maxExpiries; i++) {
      const [c] = await q!.claim('w1', 1, 1);
      expect(c!.leases).toBe(i);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await q!.reap(maxExpiries)).toEqual({ requeued: 1, expired: 0 });
    }
    const [last] = await q!.claim('w1', 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await q!.reap(maxExpiries)).toEqual({ requeued: 0, expired: 1 });
    expect(await q!.complete('w1', last!.id, row('late'), true)).toBe(false);
    const results = await q!.results();
    expect(results).toHaveLength(1);
    const final = JSON.parse(results[0]!.row);
    expect(final).toMatchObject({ url: 'http://a.test/doomed', ok: false, meta: { tag: 7 }, error: { code: 'LEASE_EXPIRED' } });
    expect(await q!.status()).toMatchObject({ pending: 0, leased: 0, failed: 1 });
  });

  it('fuzz: random interleavings of three workers leave one final row per request and nothing pending or leased', async () => {
    let refused = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = seeded(seed);
      const workers = await queues(3, { perHost: 1 + Math.floor(rng() * 3) });
      const held: Map<string, string>[] = workers.map(() => new Map());
      let enqueued = 0;
      let next = 0;
      const addSome = async (): Promise<void> => {
        const n = 1 + Math.floor(rng() * 20);
        const batch = Array.from({ length: n }, () => request(`http://h${Math.floor(rng() * 5)}.test/${next++}`));
        enqueued += (await workers[Math.floor(rng() * 3)]!.enqueue(batch)).added;
      };
      for (let step = 0; step < 300; step++) {
        const w = Math.floor(rng() * 3);
        const q = workers[w]!;
        const mine = held[w]!;
        const roll = rng();
        if (roll < 0.1 && next < 400) await addSome();
        else if (roll < 0.45) {
          for (const c of await q.claim(`w${w}`, 1 + Math.floor(rng() * 6), rng() < 0.2 ? 1 : 60_000)) mine.set(c.id, c.payload);
        } else if (roll < 0.75) {
          const ids = [...mine.keys()].filter(() => rng() < 0.5);
          const wrote = await q.completeMany(`w${w}`, ids.map((id) => ({ id, row: row(id), ok: rng() < 0.8 })));
          expect(wrote.length).toBe(ids.length);
          refused += wrote.filter((w) => !w).length;
          for (const id of ids) mine.delete(id);
        } else if (roll < 0.85) {
          const ids = [...mine.keys()].filter(() => rng() < 0.5);
          await q.release(`w${w}`, ids);
          for (const id of ids) mine.delete(id);
        } else {
          await new Promise((resolve) => setTimeout(resolve, 2));
          await q.reap(3);
        }
      }
      // drain: every worker finishes what it holds, then takes and completes until the job is empty
      for (let round = 0; round < 1000; round++) {
        let progress = false;
        for (let w = 0; w < 3; w++) {
          const q = workers[w]!;
          for (const c of await q.claim(`w${w}`, 10, 60_000)) held[w]!.set(c.id, c.payload);
          const ids = [...held[w]!.keys()];
          if (ids.length > 0) progress = true;
          await q.completeMany(`w${w}`, ids.map((id) => ({ id, row: row(id), ok: true })));
          held[w]!.clear();
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
        await workers[0]!.reap(3);
        const status = await workers[0]!.status();
        if (!progress && status.pending === 0 && status.leased === 0) break;
      }
      const status = await workers[0]!.status();
      expect(status, `seed ${seed}`).toMatchObject({ enqueued, pending: 0, leased: 0 });
      expect(status.ok + status.failed, `seed ${seed}`).toBe(enqueued);
      const results = await workers[0]!.results(null, 100_000);
      const ids = results.map((r) => r.id);
      expect(new Set(ids).size, `seed ${seed}: a duplicate row`).toBe(ids.length);
      expect(ids.length, `seed ${seed}`).toBe(enqueued);
      // and no bookkeeping left behind: no request state, lease, in-flight count or ready host
      const p = workers[0]!.prefix;
      for (const key of ['req', 'owner', 'leases', 'claimed', 'tries', 'expired', 'inflight', 'hosts']) {
        expect(await workers[0]!.client.sendCommand(['EXISTS', `${p}${key}`]), `seed ${seed}: ${key}`).toBe(0);
      }
    }
    // the interleavings did reach the case that matters: completions of leases lost to a reap or a re-claim
    expect(refused).toBeGreaterThan(0);
  });

  it('goes on after a Redis restart with AOF on: the job survives, scripts are sent again (NOSCRIPT), the client reconnects', async () => {
    const durable = await startRedis({ appendonly: true });
    try {
      const q = await RedisQueue.connect(durable.url, 'durable');
      try {
        await q.define({ perHost: 2 });
        await q.enqueue([request('http://a.test/1'), request('http://a.test/2'), request('http://a.test/3')]);
        const [first] = await q.claim('w1', 1, 60_000);
        await durable.restart({ appendonly: true });
        // A command sent before the client is back fails at once (no offline queue); a worker's go through
        // queue/redis-retry.ts, which sends them again until the client has reconnected.
        const w = new RedisQueue(retrying(q.client, { firstDelayMs: 20 }), 'durable');
        expect(await w.complete('w1', first!.id, row('1'), true)).toBe(true);
        const rest = await w.claim('w1', 10, 60_000);
        expect(rest).toHaveLength(2);
        await w.completeMany('w1', rest.map((c) => ({ id: c.id, row: row(c.id), ok: true })));
        expect(await w.status()).toMatchObject({ enqueued: 3, pending: 0, leased: 0, ok: 3 });
        expect(await w.results()).toHaveLength(3);
      } finally {
        await q.close();
      }
    } finally {
      await durable.stop();
    }
  });

  it('memory: bytes per pending request and per final row at 100,000 requests (printed, not asserted)', async () => {
    const [q] = await queues(1, { perHost: 1_000_000 });
    const used = async (): Promise<number> => (await q!.status()).redisMemoryBytes;
    const n = 100_000;
    const before = await used();
    const t0 = performance.now();
    const requests = Array.from({ length: n }, (_, i) => request(`https://host${i % 1000}.example.com/path/to/page-${i}.html`));
    await q!.enqueue(requests);
    const enqueueMs = performance.now() - t0;
    const pendingBytes = (await used()) - before;
    const t1 = performance.now();
    let claims = 0;
    const rowText = (i: number): string =>
      JSON.stringify({ url: `https://host${i % 1000}.example.com/path/to/page-${i}.html`, finalUrl: null, ok: true, status: 200, error: null, contentType: 'text/html', etag: null, lastModified: null, bytes: 5120, elapsedMs: 120, attempts: 1, redirects: 0, title: 'A page', description: null });
    for (;;) {
      const claimed = await q!.claim('w', 5000, 600_000);
      if (claimed.length === 0) break;
      claims++;
      await q!.completeMany('w', claimed.map((c) => ({ id: c.id, row: rowText(Number(c.id)), ok: true })));
    }
    const drainMs = performance.now() - t1;
    const finalBytes = (await used()) - before;
    const rowBytes = rowText(1).length;
    console.log(
      `redis memory at ${n} requests: ${(pendingBytes / n).toFixed(0)} B per pending request (payload ~${requests[1]!.payload.length} B); ` +
        `${(finalBytes / n).toFixed(0)} B per final row (row JSON ${rowBytes} B) once all are done; ` +
        `enqueue ${Math.round(enqueueMs)} ms (batches of 500), claim+complete ${Math.round(drainMs)} ms in ${claims} claims of up to 5000 (loopback, one client; figures, not asserts)`,
    );
    expect((await q!.status()).ok).toBe(n);
  });
});
