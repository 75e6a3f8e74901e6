import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, createTestServer, htmlPage, type TestServer } from './fixtures/server.js';
import { findRedis, REDIS_MISSING, startRedis, type RedisServer } from './fixtures/redis.js';
import { rows, start, until, volley, type CliRun } from './fixtures/volley-cli.js';
import { stopChild } from './fixtures/child-process.js';

/**
 * What holds fleet-wide when several `volley work` processes share a job (issue 21), through the built CLI against
 * a real redis-server and loopback sites, counted at the servers: robots.txt once per host, the per-host limit, the
 * dead-host breaker, and a Redis restart in the middle of a run.
 */

const redisBinary = findRedis();
if (!redisBinary) console.warn(`skipping test/queue-fleet.test.ts: ${REDIS_MISSING}`);

describe.skipIf(!redisBinary)('a fleet of `volley work` processes on one job', () => {
  let redis: RedisServer;
  let dir: string;
  let jobs = 0;
  const sites: TestServer[] = [];
  const workers: CliRun[] = [];
  const job = (): string => `fleet${++jobs}`;
  const status = async (target: string[]): Promise<Record<string, number>> => JSON.parse((await volley(['queue', 'status', ...target, '--json'])).stdout) as Record<string, number>;
  const work = (target: string[], extra: string[] = [], env: Record<string, string> = {}): CliRun => {
    const run = start(['work', ...target, '-q', ...extra], env);
    workers.push(run);
    return run;
  };

  /** A site whose pages take `ms` and whose robots.txt disallows /private. */
  async function site(ms: number): Promise<TestServer> {
    const s = await createTestServer({
      '/robots.txt': (_req, res) => {
        const body = 'User-agent: *\nDisallow: /private\n';
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      '/page': (_req, res, url) => {
        setTimeout(() => {
          const body = htmlPage(`page ${url.searchParams.get('n')}`);
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        }, ms);
      },
    });
    sites.push(s);
    return s;
  }

  function list(name: string, urls: string[]): string {
    const path = join(dir, name);
    writeFileSync(path, `${urls.join('\n')}\n`);
    return path;
  }

  beforeAll(async () => {
    redis = await startRedis({ appendonly: true });
    dir = mkdtempSync(join(tmpdir(), 'volley-queue-fleet-'));
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await stopChild(w.child);
    for (const s of sites.splice(0)) await s.close();
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three workers: robots.txt is requested once per host across the fleet, and no host ever has more than --per-host in flight', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const hosts = await Promise.all([site(30), site(30), site(30)]);
    const urls = hosts.flatMap((h, i) => [
      ...Array.from({ length: 40 }, (_, n) => `${h.url}/page?n=${i}-${n}`),
      ...Array.from({ length: 3 }, (_, n) => `${h.url}/private/${n}`),
    ]);
    expect((await volley(['enqueue', ...target, list('robots.txt', urls), '--per-host', '2', '--respect-robots', '--no-extract'])).code).toBe(0);
    const fleet = [work(target, ['-c', '6']), work(target, ['-c', '6']), work(target, ['-c', '6'])];
    expect(await Promise.all(fleet.map((w) => w.done))).toEqual([0, 0, 0]);
    for (const h of hosts) {
      expect({ host: h.url, robots: h.hits('/robots.txt') }).toEqual({ host: h.url, robots: 1 });
      // Counted at the server: every request of every worker, robots.txt included.
      expect(h.log.maxInFlight).toBeLessThanOrEqual(2);
    }
    const got = rows((await volley(['queue', 'results', ...target])).stdout);
    expect(got.map((r) => r.url).sort()).toEqual([...urls].sort());
    const disallowed = got.filter((r) => r.error?.code === 'ROBOTS_DISALLOWED').map((r) => r.url);
    expect(disallowed.sort()).toEqual(urls.filter((u) => u.includes('/private/')).sort());
    expect(got.filter((r) => r.ok)).toHaveLength(120);
  });

  it('a host the breaker skipped is skipped by every worker, including workers started later', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const flags = ['--per-host', '1', '--retries', '0', '--max-host-errors', '3', '--host-cooldown', '10m', '--no-extract'];
    // One worker finds the host dead: three refused connections trip it, the other two are skipped.
    const first = Array.from({ length: 5 }, (_, n) => `${dead}/a${n}`);
    expect((await volley(['enqueue', ...target, list('dead1.txt', first), ...flags])).code).toBe(0);
    expect(await work(target, ['-c', '4']).done).toBe(0);
    const before = rows((await volley(['queue', 'results', ...target])).stdout);
    expect(before.map((r) => r.error?.code)).toEqual(['CONNECT', 'CONNECT', 'CONNECT', 'HOST_SKIPPED', 'HOST_SKIPPED']);
    // Three new workers, whose own breakers know nothing: every URL of the host is skipped, none requested.
    const live = await site(0);
    const more = [...Array.from({ length: 30 }, (_, n) => `${dead}/b${n}`), ...Array.from({ length: 10 }, (_, n) => `${live.url}/page?n=${n}`)];
    expect((await volley(['enqueue', ...target, list('dead2.txt', more), ...flags])).code).toBe(0);
    const fleet = [work(target, ['-c', '4']), work(target, ['-c', '4']), work(target, ['-c', '4'])];
    expect(await Promise.all(fleet.map((w) => w.done))).toEqual([0, 0, 0]);
    const after = rows((await volley(['queue', 'results', ...target])).stdout).slice(5);
    const deadRows = after.filter((r) => r.url.startsWith(dead));
    expect(deadRows).toHaveLength(30);
    expect(deadRows.every((r) => r.error?.code === 'HOST_SKIPPED')).toBe(true);
    // The message a local run gives.
    expect(deadRows[0]!.error!.message).toBe(`host ${new URL(dead).host} skipped after 3 consecutive failures (last: CONNECT)`);
    expect(after.filter((r) => r.url.startsWith(live.url)).every((r) => r.ok)).toBe(true);
  });

  it('a Redis restart (AOF on) in the middle of a run: the workers reconnect and finish, every URL one row', async () => {
    const target = ['--redis', redis.url, '--job', job()];
    const hosts = await Promise.all([site(100), site(100), site(100)]);
    const urls = hosts.flatMap((h, i) => Array.from({ length: 50 }, (_, n) => `${h.url}/page?n=${i}-${n}`));
    expect((await volley(['enqueue', ...target, list('restart.txt', urls), '--per-host', '3', '--no-extract'])).code).toBe(0);
    // A claim whose reply the restart swallowed is leased to nobody who knows it: a short lease gives it back soon.
    const env = { VOLLEY_TEST_LEASE_MS: '5000' };
    const fleet = [work(target, ['-c', '3'], env), work(target, ['-c', '3'], env), work(target, ['-c', '3'], env)];
    await until(async () => ((await status(target)).ok ?? 0) >= 15);
    await redis.restart({ appendonly: true });
    expect(await Promise.all(fleet.map((w) => w.done))).toEqual([0, 0, 0]);
    const got = rows((await volley(['queue', 'results', ...target])).stdout);
    // No gap, no duplicate: the rows are the URLs, each once.
    expect(got.map((r) => r.url).sort()).toEqual([...urls].sort());
    expect(got.every((r) => r.ok)).toBe(true);
    expect(await status(target)).toMatchObject({ pending: 0, leased: 0, ok: 150, failed: 0 });
  });

  it('Redis gone for good: a worker retries, then gives up with one line and exit 69', async () => {
    const gone = await startRedis();
    try {
      const target = ['--redis', gone.url, '--job', job()];
      const h = await site(200);
      const urls = Array.from({ length: 200 }, (_, n) => `${h.url}/page?n=${n}`);
      expect((await volley(['enqueue', ...target, list('gone.txt', urls), '--per-host', '2', '--no-extract'])).code).toBe(0);
      const worker = start(['work', ...target, '-c', '2'], { VOLLEY_TEST_REDIS_GIVE_UP_MS: '1000' });
      workers.push(worker);
      await until(() => h.log.requests.length >= 2);
      await gone.stop();
      expect(await worker.done).toBe(69);
      const lines = worker.stderr().trim().split('\n');
      expect(lines.at(-1)).toMatch(/^volley: lost the connection to Redis for \d+ s, giving up \(last: .+\)$/);
      expect(lines.filter((l) => !l.startsWith('volley: warning:'))).toHaveLength(1);
    } finally {
      await gone.stop().catch(() => undefined);
    }
  });
});
