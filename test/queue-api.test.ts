import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { dropJob, enqueue, queueResults, queueStatus, trimResults, work, QueueError, type FetchResult, type QueueRow } from '../src/index.js';
import { closedPort } from './fixtures/server.js';
import { rng as seeded } from './fixtures/rng.mjs';
import { fromPayload, toQueueItem } from '../src/queue/payload.js';
import { librarySettings } from '../src/queue/api-options.js';
import { FetchError } from '../src/errors.js';
import { OverlongLine } from '../src/source/url-input.js';
import { RedisQueue } from '../src/frontier/redis-queue.js';
import { workQueue } from '../src/queue/worker.js';
import type { JobRun } from '../src/queue/job.js';
import { createEchoServer, type EchoServer } from './fixtures/echo-server.js';
import { findRedis, REDIS_MISSING, startRedis, type RedisServer } from './fixtures/redis.js';

/** The shared queue from the library (issue 21): enqueue, work, queueStatus, queueResults, trimResults, dropJob. */

const redisBinary = findRedis();
if (!redisBinary) console.warn(`skipping test/queue-api.test.ts: ${REDIS_MISSING}`);

/** Polls `check` until it holds (no timing assert: the test's own timeout is the limit). */
async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

const INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('a library item through the queue', () => {
  it('comes back from its payload as it went in, for random items (seeded fuzz); what cannot be fetched is an INVALID_REQUEST', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const text = (): string => Array.from({ length: Math.floor(random() * 12) }, () => String.fromCodePoint(pick([0x20, 0x61, 0x3d, 0x26, 0x22, 0x5c, 0xe9, 0x1f600, 0x0a, 0]) + Math.floor(random() * 3))).join('');
    const run = librarySettings({}).run;
    try {
      for (let i = 0; i < 2000; i++) {
        const url = `http://h${Math.floor(random() * 5)}.test/${encodeURIComponent(text())}`;
        const kind = Math.floor(random() * 8);
        const bytes = new Uint8Array(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
        const item: unknown = [
          url,
          new OverlongLine(url, 70_000),
          { url, method: 'POST', body: bytes, meta: { i, t: text() } },
          { url, method: 'PUT', body: text(), headers: { 'x-t': 'v' } },
          { url, method: 'POST', body: new URLSearchParams({ [text()]: text() }) },
          { url, method: 'POST', json: { t: text(), n: random() } },
          pick([42, null, true, [url], undefined]),
          { nourl: text() },
        ][kind];
        const request = toQueueItem(item as string, run);
        expect(request.key).toMatch(/^[A-Za-z0-9_-]{22}$/);
        const back = fromPayload(request.payload, run);
        if (kind === 6) {
          expect(back).toBeInstanceOf(FetchError);
          expect((back as FetchError).code).toBe('INVALID_REQUEST');
        } else if (kind === 1) {
          expect(back).toEqual(item);
        } else if (kind === 2) {
          const { body, ...rest } = back as { body: Uint8Array };
          expect([...body]).toEqual([...bytes]);
          expect(rest).toEqual({ url, method: 'POST', meta: (item as { meta: unknown }).meta });
        } else if (kind === 4) {
          expect(back).toMatchObject({ url, body: (item as { body: URLSearchParams }).body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' } });
        } else {
          expect(back).toEqual(item);
        }
        // The same request again has the same key (what dedupe compares).
        expect(toQueueItem(item as string, run).key).toBe(request.key);
      }
    } catch (err) {
      throw new Error(`seed ${seed} (FUZZ_SEED=${seed} reproduces): ${(err as Error).message}`);
    }
  });
});

describe('loading the library', () => {
  it('does not load the `redis` package until a queue function is called', async () => {
    // In a child, as a user's program would: the files of `redis` and `@redis/*` in the CommonJS cache (which an
    // ESM import of a CommonJS package fills), before and after the first queue call (to a closed port).
    const probe = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const redisFiles = () => Object.keys(require.cache).filter((p) => /node_modules[\\\\/](redis|@redis)[\\\\/]/.test(p)).length;
      const volley = await import(process.argv[1]);
      await volley.fetchAll([]);
      const before = redisFiles();
      const code = await volley.queueStatus({ redis: 'redis://127.0.0.1:' + process.argv[2] }).then(() => 'none', (e) => e.code);
      console.log(JSON.stringify({ before, code, after: redisFiles() }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe, INDEX, String(await closedPort())], { env: { ...process.env, REDIS_URL: '' } });
    const seen = JSON.parse(stdout) as { before: number; code: string; after: number };
    expect(seen).toMatchObject({ before: 0, code: 'REDIS_UNAVAILABLE' });
    // The check can see it: once a queue function has run, the package is there.
    expect(seen.after).toBeGreaterThan(0);
  });
});

describe.skipIf(!redisBinary)('the shared queue from the library, against a real redis-server', () => {
  let redis: RedisServer;
  let server: EchoServer;
  let jobs = 0;
  const job = (): string => `api${++jobs}`;

  beforeAll(async () => {
    redis = await startRedis();
    server = await createEchoServer();
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('enqueue, then two work() calls at once: queueResults has exactly one row per request, each written by one worker', async () => {
    const target = { redis: redis.url, job: job() };
    const urls = Array.from({ length: 60 }, (_, i) => `${server.url}/echo?u=${i}`);
    async function* source(): AsyncGenerator<string | { url: string; method: 'POST'; body: Uint8Array | URLSearchParams; meta: unknown } | number> {
      yield* urls;
      yield { url: `${server.url}/echo?bytes`, method: 'POST', body: new Uint8Array([0, 1, 2, 255]), meta: { n: 'bytes' } };
      yield { url: `${server.url}/echo?form`, method: 'POST', body: new URLSearchParams({ a: '1 2' }), meta: { n: 'form' } };
      // Not a URL or a request: its own INVALID_REQUEST row, not an exception, not a lost item.
      yield 42;
    }
    const summary = await enqueue(source() as AsyncIterable<string>, { ...target, perHost: 8, extract: false, timeoutMs: 10_000 });
    expect(summary).toEqual({ added: 63, dropped: 0 });

    const written: FetchResult[][] = [[], []];
    const controllers = [new AbortController(), new AbortController()];
    const done = await Promise.all(
      controllers.map((c, i) => work({ ...target, concurrency: 5, signal: c.signal, worker: `w${i}`, onRow: (r) => written[i]!.push(r) })),
    );
    expect(done.map((d) => d.aborted)).toEqual([false, false]);
    expect(done[0]!.written + done[1]!.written).toBe(63);
    expect(done.map((d) => d.written)).toEqual(written.map((w) => w.length));

    const rows = await collect(queueResults(target));
    expect(rows).toHaveLength(63);
    const byUrl = new Map(rows.map((r) => [r.result.url, r.result]));
    for (const url of [...urls, `${server.url}/echo?bytes`, `${server.url}/echo?form`]) expect(byUrl.get(url)).toMatchObject({ ok: true, status: 200 });
    expect(rows.filter((r) => r.result.error?.code === 'INVALID_REQUEST')).toHaveLength(1);
    expect(byUrl.get(`${server.url}/echo?bytes`)?.meta).toEqual({ n: 'bytes' });
    // The bodies arrived as given: bytes unchanged, the form encoded with its content type.
    expect([...server.at('/echo?bytes')[0]!.body]).toEqual([0, 1, 2, 255]);
    expect(server.at('/echo?form')[0]).toMatchObject({ headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' } });
    expect(server.at('/echo?form')[0]!.body.toString()).toBe('a=1+2');
    // The workers' own rows: the same set, none twice.
    expect(written.flat().map((r) => r.url).sort()).toEqual(rows.map((r) => r.result.url).sort());
    expect(await queueStatus(target)).toMatchObject({ pending: 0, leased: 0, ok: 62, failed: 1 });
  });

  it('aborting work() puts its in-flight requests back in the job at once', async () => {
    const target = { redis: redis.url, job: job() };
    await enqueue(Array.from({ length: 4 }, (_, i) => `${server.url}/hang?k=${i}`), { ...target, extract: false });
    const controller = new AbortController();
    const running = work({ ...target, concurrency: 4, signal: controller.signal });
    await until(async () => (await queueStatus(target))?.leased === 4);
    controller.abort();
    expect(await running).toMatchObject({ written: 0, released: 4, aborted: true });
    // No reap has run and the lease (minutes) has not expired: only the release can have put them back.
    expect(await queueStatus(target)).toMatchObject({ pending: 4, leased: 0, ok: 0, failed: 0 });
    // An already-aborted signal: resolves at once, takes nothing.
    expect(await work({ ...target, signal: AbortSignal.abort() })).toMatchObject({ written: 0, released: 0, aborted: true });
    expect(await queueStatus(target)).toMatchObject({ pending: 4, leased: 0 });
    expect(await dropJob(target)).toBeGreaterThan(0);
    expect(await queueStatus(target)).toBeNull();
  });

  it('an abort while a claim is on its way to Redis still puts that claim\'s requests back', async () => {
    const target = { redis: redis.url, job: job() };
    await enqueue(Array.from({ length: 3 }, (_, i) => `${server.url}/hang?race=${i}`), { ...target, extract: false });
    const queue = await RedisQueue.connect(redis.url, target.job);
    try {
      // The claim has run in Redis, but its answer is held back until after the abort.
      let claimedInRedis!: () => void;
      const inRedis = new Promise<void>((resolve) => (claimedInRedis = resolve));
      let letGo!: () => void;
      const gate = new Promise<void>((resolve) => (letGo = resolve));
      const claim = queue.claim.bind(queue);
      queue.claim = async (...args) => {
        const got = await claim(...args);
        if (got.length > 0) {
          claimedInRedis();
          await gate;
        }
        return got;
      };
      const controller = new AbortController();
      const settings = await queue.settings();
      const running = workQueue(queue, settings!.run as JobRun, { worker: 'racer', concurrency: 3, wait: false, signal: controller.signal, onRow: () => {} });
      await inRedis;
      controller.abort();
      // Long enough for the worker to have left its loop; the outcome must not depend on it.
      setTimeout(letGo, 200);
      expect(await running).toEqual({ written: 0, released: 3 });
      expect(await queueStatus(target)).toMatchObject({ pending: 3, leased: 0 });
    } finally {
      await queue.close();
    }
  });

  it('an onRow that throws stops the worker: work() rejects with its error, and nothing is lost or written twice', async () => {
    const target = { redis: redis.url, job: job() };
    const urls = Array.from({ length: 20 }, (_, i) => `${server.url}/echo?throw=${i}`);
    await enqueue(urls, { ...target, extract: false, perHost: 2 });
    const boom = new Error('consumer failed');
    let seen = 0;
    await expect(work({ ...target, concurrency: 2, onRow: () => { if (++seen === 3) throw boom; } })).rejects.toBe(boom);
    // What it held went back; a second worker finishes the rest: one row per URL.
    expect(await queueStatus(target)).toMatchObject({ leased: 0 });
    await work({ ...target, concurrency: 4 });
    const rows = await collect(queueResults(target));
    expect(rows.map((r) => r.result.url).sort()).toEqual([...urls].sort());
  });

  it('enqueue stops reading its source when its signal aborts; what was sent stays in the job', async () => {
    const target = { redis: redis.url, job: job() };
    const controller = new AbortController();
    let read = 0;
    function* endless(): Generator<string> {
      for (;;) {
        if (++read === 1200) controller.abort();
        yield `${server.url}/echo?n=${read}`;
      }
    }
    const { added } = await enqueue(endless(), { ...target, signal: controller.signal });
    expect(added).toBe(1199);
    expect(await queueStatus(target)).toMatchObject({ enqueued: 1199, pending: 1199 });
    await dropJob(target);
  });

  it('a Redis that cannot be reached is a QueueError REDIS_UNAVAILABLE from every function, never a hang', async () => {
    const down = { redis: `redis://127.0.0.1:${await closedPort()}`, job: 'down' };
    const calls: [string, () => Promise<unknown>][] = [
      ['enqueue', () => enqueue(['http://127.0.0.1/'], down)],
      ['work', () => work(down)],
      ['queueStatus', () => queueStatus(down)],
      ['queueResults', () => collect(queueResults(down))],
      ['trimResults', () => trimResults({ ...down, through: '1-0' })],
      ['dropJob', () => dropJob(down)],
    ];
    for (const [name, call] of calls) {
      const error = await call().then(() => null, (err: unknown) => err);
      expect({ name, error }).toMatchObject({ name, error: { name: 'QueueError', code: 'REDIS_UNAVAILABLE' } });
      expect(error).toBeInstanceOf(QueueError);
      expect((error as Error).message).toContain(`cannot reach Redis at ${down.redis}`);
    }
  });

  it('enqueue into a job with other settings rejects with JOB_SETTINGS_DIFFER naming the difference; bad options are TypeErrors', async () => {
    const target = { redis: redis.url, job: job() };
    await enqueue([`${server.url}/echo?s=1`], { ...target, timeoutMs: 5000, headers: { a: '1', b: '2' } });
    // The same settings (headers in another order) add more.
    expect(await enqueue([`${server.url}/echo?s=2`], { ...target, timeoutMs: 5000, headers: { b: '2', a: '1' } })).toEqual({ added: 1, dropped: 0 });
    const differ = await enqueue([`${server.url}/echo?s=3`], { ...target, timeoutMs: 6000, headers: { a: '1', b: '2' } }).catch((err: unknown) => err);
    expect(differ).toMatchObject({ code: 'JOB_SETTINGS_DIFFER' });
    expect((differ as Error).message).toContain('timeoutMs is 5000 in the job, 6000 here');
    // Checked before connecting: a run's local option, a bad value, a bad URL.
    await expect(enqueue([], { ...target, concurrency: 5 } as never)).rejects.toThrow(/unknown option `concurrency`.*give it to work\(\)/);
    await expect(enqueue([], { ...target, perHost: 0 })).rejects.toThrow(/perHost/);
    await expect(enqueue([], { redis: 'http://x', job: 'j' })).rejects.toThrow(TypeError);
    await expect(enqueue(5 as never, target)).rejects.toThrow(/iterable/);
    await expect(work({ ...target, concurrency: 0 })).rejects.toThrow(RangeError);
    await expect(collect(queueResults({ ...target, after: 'x' }))).rejects.toThrow(/row id/);
    expect(await queueStatus(target)).toMatchObject({ enqueued: 2, pending: 2 });
  });

  it('dedupe drops a request already in the job', async () => {
    const target = { redis: redis.url, job: job() };
    const a = { url: `${server.url}/echo?d`, method: 'POST' as const, json: { x: 1 } };
    expect(await enqueue([a, a, `${server.url}/echo?d`], { ...target, dedupe: true })).toEqual({ added: 2, dropped: 1 });
    expect(await enqueue([{ ...a, json: { x: 2 } }, a], { ...target, dedupe: true })).toEqual({ added: 1, dropped: 1 });
  });

  it('queueResults resumes with `after`, follows new rows, and trimResults deletes exactly through a row', async () => {
    const target = { redis: redis.url, job: job() };
    const urls = Array.from({ length: 12 }, (_, i) => `${server.url}/echo?r=${i}`);
    await enqueue(urls, { ...target, extract: false, body: 'bytes' });
    await work({ ...target, concurrency: 3 });
    const all = await collect(queueResults(target));
    expect(all.map((r) => r.result.url).sort()).toEqual([...urls].sort());
    // `body: 'bytes'` comes back as bytes.
    expect(all[0]!.result.body).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(all[0]!.result.body as Uint8Array).toString()).toContain('<title>GET /echo?r=');

    // Leave after five rows; read on from the fifth's id: the rest, in the same order, none twice.
    const first: QueueRow[] = [];
    for await (const row of queueResults(target)) {
      first.push(row);
      if (first.length === 5) break;
    }
    const rest = await collect(queueResults({ ...target, after: first[4]!.id }));
    expect([...first, ...rest].map((r) => r.id)).toEqual(all.map((r) => r.id));

    // Follow: rows written after the loop started arrive; leaving the loop closes its connection.
    const controller = new AbortController();
    const followed: QueueRow[] = [];
    const following = (async () => {
      for await (const row of queueResults({ ...target, after: all[11]!.id, follow: true, signal: controller.signal })) {
        followed.push(row);
        if (followed.length === 2) break;
      }
    })();
    await enqueue([`${server.url}/echo?late=1`, `${server.url}/echo?late=2`], { ...target, extract: false, body: 'bytes' });
    await work({ ...target, concurrency: 2 });
    await following;
    expect(followed.map((r) => r.result.url).sort()).toEqual([`${server.url}/echo?late=1`, `${server.url}/echo?late=2`]);
    // With `follow` and nothing new, the signal ends the loop.
    const stop = new AbortController();
    const idle = collect(queueResults({ ...target, after: followed[1]!.id, follow: true, signal: stop.signal }));
    stop.abort();
    expect(await idle).toEqual([]);

    // Trim through the sixth row: six rows gone, the rest still there, in order.
    expect(await trimResults({ ...target, through: all[5]!.id })).toBe(6);
    const left = await collect(queueResults(target));
    expect(left.map((r) => r.id)).toEqual([...all.slice(6), ...followed].map((r) => r.id));
    expect(await trimResults({ ...target, through: all[5]!.id })).toBe(0);
    // The counts are the job's, not the stream's.
    expect(await queueStatus(target)).toMatchObject({ ok: 14 });
  });
});
