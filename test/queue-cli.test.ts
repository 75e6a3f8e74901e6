import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, createTestServer, type TestServer } from './fixtures/server.js';
import { findRedis, REDIS_MISSING, startRedis, type RedisServer } from './fixtures/redis.js';
import { rows, start, until, volley } from './fixtures/volley-cli.js';

/** The shared queue's subcommands (issue 21), through the built CLI, against a real redis-server and a loopback site. */

const redisBinary = findRedis();
if (!redisBinary) console.warn(`skipping test/queue-cli.test.ts: ${REDIS_MISSING}`);

describe.skipIf(!redisBinary)('volley enqueue / work / queue against a real redis-server', () => {
  let redis: RedisServer;
  let server: TestServer;
  let dir: string;
  let jobs = 0;
  const job = (): string => `cli${++jobs}`;
  const status = async (target: string[]): Promise<Record<string, unknown>> => JSON.parse((await volley(['queue', 'status', ...target, '--json'])).stdout) as Record<string, unknown>;

  beforeAll(async () => {
    redis = await startRedis();
    server = await createTestServer();
    dir = mkdtempSync(join(tmpdir(), 'volley-queue-cli-'));
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function list(name: string, urls: string[]): string {
    const path = join(dir, name);
    writeFileSync(path, `${urls.join('\n')}\n`);
    return path;
  }

  it('three workers at once: every URL of 300 has exactly one row in `queue results`, and each row came from one worker', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const urls = Array.from({ length: 300 }, (_, i) => `${server.url}/ok?t=${i}`);
    const enq = await volley(['enqueue', ...target, list('300.txt', urls), '--per-host', '30', '--no-extract']);
    expect(enq.code).toBe(0);
    expect(enq.stderr).toContain('300 added');
    const workers = [0, 1, 2].map(() => start(['work', ...target, '-c', '10']));
    expect(await Promise.all(workers.map((w) => w.done))).toEqual([0, 0, 0]);
    const results = await volley(['queue', 'results', ...target]);
    expect(results.code).toBe(0);
    const got = rows(results.stdout).map((r) => r.url).sort();
    expect(got).toEqual([...urls].sort());
    // The workers' own copies: the same rows, none written twice.
    const local = workers.flatMap((w) => rows(w.stdout()).map((r) => r.url)).sort();
    expect(local).toEqual([...urls].sort());
    expect(await status(target)).toMatchObject({ pending: 0, leased: 0, ok: 300, failed: 0 });
  });

  it('a worker SIGKILLed mid-run: its leased requests are reaped and finished by the others, one row each', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    // Pages of 1 s, six at a time: the doomed worker alone would take ten seconds, so the kill lands mid-run
    // however loaded the machine is. The job is watched through a connection of the test's own (no CLI process
    // per poll), and nothing is timed: the test's own timeout is the only limit.
    const urls = Array.from({ length: 60 }, (_, i) => `${server.url}/slow?ms=1000&k=${i}`);
    expect((await volley(['enqueue', ...target, list('kill.txt', urls), '--per-host', '30', '--no-extract'])).code).toBe(0);
    const { RedisQueue } = await import('../src/frontier/redis-queue.js');
    const watch = await RedisQueue.connect(redis.url, target[3]!);
    try {
      const env = { VOLLEY_TEST_LEASE_MS: '4000' };
      const doomed = start(['work', ...target, '-c', '6'], env);
      await until(async () => (await watch.status()).leased > 0 && rows(doomed.stdout()).length > 0);
      doomed.child.kill('SIGKILL');
      await doomed.done;
      // Its leases outlive it: nobody reaps while no worker runs.
      const left = await watch.status();
      expect(left.leased).toBeGreaterThan(0);
      expect(left.ok).toBeLessThan(60);
      const others = [start(['work', ...target, '-c', '10'], env), start(['work', ...target, '-c', '10'], env)];
      expect(await Promise.all(others.map((w) => w.done))).toEqual([0, 0]);
      const got = rows((await volley(['queue', 'results', ...target])).stdout);
      expect(got.map((r) => r.url).sort()).toEqual([...urls].sort());
      expect(got.every((r) => r.ok)).toBe(true);
      expect(await watch.status()).toMatchObject({ pending: 0, leased: 0, ok: 60 });
    } finally {
      await watch.close();
    }
  }, 120_000);

  it("a host's Retry-After pauses it for every worker: its other URLs wait in the job while other hosts' finish", async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const other = await createTestServer();
    try {
      // 127.0.0.1:A answers 429 with Retry-After: 120 s on its first URL; its other URLs must wait that long in Redis.
      const urls = [`${server.url}/429?after=120&k=q`, ...[1, 2, 3].map((i) => `${server.url}/ok?paused=${i}`), ...[1, 2, 3, 4, 5].map((i) => `${other.url}/ok?free=${i}`)];
      expect((await volley(['enqueue', ...target, list('pause.txt', urls), '--per-host', '1', '--retries', '0', '--no-extract'])).code).toBe(0);
      const worker = start(['work', ...target, '-c', '4']);
      await until(async () => {
        const s = await status(target);
        return s.ok === 5 && s.failed === 1;
      });
      // The paused host's three URLs are still pending, and the job says a host waits on its limit.
      expect(await status(target)).toMatchObject({ pending: 3, leased: 0, ok: 5, failed: 1 });
      expect(((await status(target)).hostsWaiting as number) >= 1).toBe(true);
      // A second worker does not take them either: the pause is the job's, not the first worker's.
      const second = start(['work', ...target, '-c', '4']);
      await new Promise((r) => setTimeout(r, 300));
      expect(await status(target)).toMatchObject({ pending: 3, leased: 0 });
      worker.child.kill('SIGINT');
      second.child.kill('SIGINT');
      await Promise.all([worker.done, second.done]);
      expect(server.hits('/ok?paused=1')).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('SIGINT puts the in-flight requests back in the job at once (no lease to wait out), exit 130', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const urls = Array.from({ length: 5 }, (_, i) => `${server.url}/hang?k=${i}`);
    expect((await volley(['enqueue', ...target, list('hang.txt', urls), '--no-extract'])).code).toBe(0);
    const worker = start(['work', ...target, '-c', '5']);
    await until(async () => (await status(target)).leased === 5);
    worker.child.kill('SIGINT');
    expect(await worker.done).toBe(130);
    expect(worker.stderr()).toContain('5 requests put back');
    // No reap has run and the lease (minutes) has not expired: only the release can have put them back.
    expect(await status(target)).toMatchObject({ pending: 5, leased: 0, ok: 0, failed: 0 });
    expect(rows((await volley(['queue', 'results', ...target])).stdout)).toEqual([]);
  });

  it('`queue status --json` gives the job\'s counts', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    expect((await volley(['enqueue', ...target, `${server.url}/ok?s=1`, `${server.url}/ok?s=2`])).code).toBe(0);
    const s = await status(target);
    expect(Object.keys(s).sort()).toEqual(
      ['job', 'defined', 'enqueued', 'pending', 'leased', 'ok', 'failed', 'duplicates', 'hostsWaiting', 'oldestLeaseMs', 'liveWorkers', 'redisMemoryBytes'].sort(),
    );
    expect(s).toMatchObject({ defined: true, enqueued: 2, pending: 2, leased: 0, ok: 0, failed: 0, oldestLeaseMs: null });
    expect(s.redisMemoryBytes).toBeGreaterThan(0);
    expect((await volley(['queue', 'drop', ...target])).code).toBe(0);
    expect(await status(target)).toEqual({ job: target[3], defined: false });
  });

  it('a worker that has stopped is not a live worker; `queue results | head` stops quietly, exit 0', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    // 400 rows are more than a pipe holds, so the writer does meet the closed pipe (EPIPE).
    const urls = Array.from({ length: 400 }, (_, i) => `${server.url}/ok?live=${i}`);
    expect((await volley(['enqueue', ...target, list('live.txt', urls)])).code).toBe(0);
    const w = await volley(['work', ...target, '-c', '16', '-q']);
    expect(w.code, w.stderr).toBe(0);
    expect(await status(target)).toMatchObject({ ok: 400, leased: 0, liveWorkers: 0 });
    // The reader takes one line and goes away, as `| head -1` does.
    const reader = start(['queue', 'results', ...target]);
    reader.child.stdout!.once('data', () => reader.child.stdout!.destroy());
    expect(await reader.done).toBe(0);
    expect(reader.stderr()).toBe('');
  });

  it('enqueue --dedupe drops requests already in the job; different job flags are exit 2 naming the difference', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const file = list('dup.txt', [`${server.url}/ok?d=1`, `${server.url}/ok?d=2`, `${server.url}/ok?d=1`]);
    const first = await volley(['enqueue', ...target, file, '-t', '5s', '--dedupe']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('2 added, 1 dropped');
    const again = await volley(['enqueue', ...target, file, '-t', '5s', '--dedupe']);
    expect(again.stderr).toContain('0 added, 3 dropped');
    const other = await volley(['enqueue', ...target, file, '-t', '6s']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('timeoutMs is 5000 in the job, 6000 here');
  });

  it('a Redis that cannot be reached is one line and exit 69, for every subcommand', async () => {
    const down = `redis://127.0.0.1:${await closedPort()}`;
    for (const args of [['enqueue', `${server.url}/ok`], ['work'], ['queue', 'status'], ['queue', 'results'], ['queue', 'drop']]) {
      const r = await volley([...args, '--redis', down]);
      expect({ args, code: r.code }).toEqual({ args, code: 69 });
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(`cannot reach Redis at ${down}`)]);
    }
    // REDIS_URL is the default.
    const viaEnv = await volley(['queue', 'status'], { REDIS_URL: down });
    expect(viaEnv.code).toBe(69);
  });

  it('`queue results -f csv|json` writes the rows as the main command does: the job\'s extraction columns, formula escape unless --csv-raw', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const titles = ['plain', '=1+2', 'comma, "quoted"'];
    const urls = titles.map((t) => `${server.url}/ok?t=${encodeURIComponent(t)}`);
    expect((await volley(['enqueue', ...target, ...urls, '-s', 'heading=h1', '--links'])).code).toBe(0);
    expect((await volley(['work', ...target, '-c', '3', '-q'])).code).toBe(0);

    const csv = await volley(['queue', 'results', ...target, '-f', 'csv']);
    expect(csv.code).toBe(0);
    const records = parseCsv(csv.stdout, { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(3);
    expect(Object.keys(records[0]!)).toEqual(expect.arrayContaining(['url', 'meta', 'ok', 'status', 'title', 'links', 'data.heading']));
    const byUrl = new Map(records.map((r) => [r.url, r]));
    expect(byUrl.get(urls[0]!)).toMatchObject({ ok: 'true', status: '200', title: 'plain', 'data.heading': 'plain' });
    // A cell from someone else's server that a spreadsheet would run is escaped, as in the main command.
    expect(byUrl.get(urls[1]!)).toMatchObject({ title: "'=1+2" });
    expect(byUrl.get(urls[2]!)).toMatchObject({ title: 'comma, "quoted"' });
    const raw = parseCsv((await volley(['queue', 'results', ...target, '-f', 'csv', '--csv-raw'])).stdout, { columns: true }) as Record<string, string>[];
    expect(raw.find((r) => r.url === urls[1])).toMatchObject({ title: '=1+2' });

    const out = join(dir, 'results.json');
    const json = await volley(['queue', 'results', ...target, '-f', 'json', '-o', out]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(readFileSync(out, 'utf8')) as { url: string; ok: boolean; data: Record<string, string> }[];
    expect(parsed.map((r) => r.url).sort()).toEqual([...urls].sort());
    expect(parsed.find((r) => r.url === urls[0])?.data).toEqual({ heading: 'plain' });
    // The same rows as JSONL, in the same (completion) order.
    expect(rows((await volley(['queue', 'results', ...target])).stdout).map((r) => r.url)).toEqual(parsed.map((r) => r.url));

    for (const bad of [['-f', 'xml'], ['-f', 'json', '--csv-raw'], ['--after', 'yesterday']]) {
      const r = await volley(['queue', 'results', ...target, ...bad]);
      expect({ bad, code: r.code }).toEqual({ bad, code: 2 });
    }
  }, 180_000);

  it('`queue results --trim` deletes from Redis the rows it wrote, and reads on with --after; a failed write trims nothing', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const urls = Array.from({ length: 30 }, (_, i) => `${server.url}/ok?trim=${i}`);
    expect((await volley(['enqueue', ...target, list('trim.txt', urls), '--per-host', '30', '--no-extract'])).code).toBe(0);
    expect((await volley(['work', ...target, '-c', '10', '-q'])).code).toBe(0);

    // The output cannot be written: exit 74, and every row is still in Redis.
    const full = await volley(['queue', 'results', ...target, '--trim', '-o', '/dev/full']);
    expect(full.code).toBe(74);
    expect(rows((await volley(['queue', 'results', ...target])).stdout)).toHaveLength(30);

    const out = join(dir, 'trim.jsonl');
    const first = await volley(['queue', 'results', ...target, '--trim', '-o', out]);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('30 rows, 30 trimmed from Redis');
    expect(rows(readFileSync(out, 'utf8')).map((r) => r.url).sort()).toEqual([...urls].sort());
    const last = /--after (\S+) reads on/.exec(first.stderr)?.[1];
    expect(last).toMatch(/^\d+-\d+$/);
    // Gone from the stream; the job's counts stay.
    expect(rows((await volley(['queue', 'results', ...target])).stdout)).toEqual([]);
    expect(await status(target)).toMatchObject({ ok: 30, pending: 0, leased: 0 });

    // More work later: --after the last id reads (and trims) only the new rows.
    const more = [`${server.url}/ok?trim=late1`, `${server.url}/ok?trim=late2`];
    expect((await volley(['enqueue', ...target, ...more, '--per-host', '30', '--no-extract'])).code).toBe(0);
    expect((await volley(['work', ...target, '-q'])).code).toBe(0);
    const second = await volley(['queue', 'results', ...target, '--trim', '--after', last!, '-f', 'csv']);
    expect(second.code).toBe(0);
    expect((parseCsv(second.stdout, { columns: true }) as { url: string }[]).map((r) => r.url).sort()).toEqual(more);
    expect(rows((await volley(['queue', 'results', ...target])).stdout)).toEqual([]);
  }, 180_000);

  it('`queue results --follow --trim`: Ctrl-C ends it, and the rows written by then are trimmed', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const urls = Array.from({ length: 3 }, (_, i) => `${server.url}/ok?follow=${i}`);
    expect((await volley(['enqueue', ...target, ...urls, '--no-extract'])).code).toBe(0);
    const out = join(dir, 'follow.jsonl');
    const follower = start(['queue', 'results', ...target, '--follow', '--trim', '-o', out]);
    expect((await volley(['work', ...target, '-q'])).code).toBe(0);
    await until(() => {
      try {
        return rows(readFileSync(out, 'utf8')).length === 3;
      } catch {
        return false;
      }
    });
    follower.child.kill('SIGINT');
    expect(await follower.done).toBe(130);
    expect(follower.stderr()).toContain('3 rows, 3 trimmed from Redis');
    expect(rows((await volley(['queue', 'results', ...target])).stdout)).toEqual([]);
  }, 180_000);
});
