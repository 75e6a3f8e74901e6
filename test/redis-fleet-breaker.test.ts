import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../src/errors.js';
import { RedisQueue } from '../src/frontier/redis-queue.js';
import { RedisBreaker } from '../src/frontier/redis-breaker.js';
import { RedisRobotsStore } from '../src/frontier/redis-robots.js';
import { HostBreaker, hostSkippedMessage, type Admission } from '../src/schedule/breaker.js';
import type { RobotsFile } from '../src/robots/robots-rules.js';
import { findRedis, REDIS_MISSING, startRedis, type RedisServer } from './fixtures/redis.js';
import { rng as seeded } from './fixtures/rng.mjs';

/** The fleet-wide host state of a shared queue's job (issue 21): the Redis breaker and robots.txt store, against a real redis-server. */

const redisBinary = findRedis();
if (!redisBinary) console.warn(`skipping test/redis-fleet-breaker.test.ts: ${REDIS_MISSING}`);

type Queue = Awaited<ReturnType<typeof RedisQueue.connect>>;
const HOST = 'dead.test:80';

/** Polls `check` until it holds (no timing assert: the test's own timeout is the limit). */
async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe.skipIf(!redisBinary)('the fleet-wide breaker and robots.txt store against a real redis-server', () => {
  let server: RedisServer;
  const open: Queue[] = [];
  let jobs = 0;

  /** `n` connections (workers) to one fresh job. */
  async function workers(n: number): Promise<Queue[]> {
    const job = `fleet${++jobs}`;
    const made: Queue[] = [];
    for (let i = 0; i < n; i++) {
      const q = await RedisQueue.connect(server.url, job);
      open.push(q);
      made.push(q);
    }
    await made[0]!.define({ perHost: 2, run: null });
    return made;
  }

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const q of open) await q.close().catch(() => undefined);
    await server?.stop();
  });

  it('a streak counted by two workers trips the host for both, with the trip a local run would report', async () => {
    const [qa, qb] = await workers(2);
    const a = new RedisBreaker(qa!, 3, { cooldownMs: 600_000 });
    const b = new RedisBreaker(qb!, 3, { cooldownMs: 600_000 });
    a.record(HOST, 'CONNECT');
    await a.settled();
    b.record(HOST, 'TIMEOUT');
    await b.settled();
    expect(a.skipped(HOST)).toBeNull();
    a.record(HOST, 'CONNECT');
    await a.settled();
    // A learnt it from its own record's reply; B on its next refresh (or its next admit, since it knows the streak).
    expect(a.skipped(HOST)).toEqual({ failures: 3, lastCode: 'CONNECT' });
    expect(await b.admit(HOST)).toEqual({ failures: 3, lastCode: 'CONNECT' });
    await b.refresh();
    expect(b.skipped(HOST)).toEqual({ failures: 3, lastCode: 'CONNECT' });
    // A worker that starts later starts with what the job knows.
    const c = new RedisBreaker(qb!, 3, { cooldownMs: 600_000 });
    await c.refresh();
    expect(await c.admit(HOST)).toEqual({ failures: 3, lastCode: 'CONNECT' });
    // The same message as a local breaker's trip.
    const local = new HostBreaker(3, { cooldownMs: 600_000 });
    for (const code of ['CONNECT', 'TIMEOUT', 'CONNECT'] as const) local.record(HOST, code);
    expect(hostSkippedMessage(HOST, c.skipped(HOST)!)).toBe(hostSkippedMessage(HOST, local.skipped(HOST)!));
  });

  it('a response seen by any worker ends the streak for all', async () => {
    const [qa, qb] = await workers(2);
    const a = new RedisBreaker(qa!, 2, { cooldownMs: 600_000 });
    const b = new RedisBreaker(qb!, 2, { cooldownMs: 600_000 });
    a.record(HOST, 'CONNECT');
    await a.settled();
    await b.refresh();
    b.record(HOST, 'response');
    await b.settled();
    a.record(HOST, 'CONNECT');
    await a.settled();
    expect(a.skipped(HOST)).toBeNull();
    expect(await a.admit(HOST)).toBe('closed');
  });

  it('after the cool-down exactly one admit across the fleet is the probe; a failed probe reopens, a good one closes for all', async () => {
    const [qa, qb] = await workers(2);
    const a = new RedisBreaker(qa!, 1, { cooldownMs: 200 });
    const b = new RedisBreaker(qb!, 1, { cooldownMs: 200 });
    a.record(HOST, 'CONNECT');
    await a.settled();
    await b.refresh();
    expect(typeof (await b.admit(HOST))).toBe('object');
    // Poll until the cool-down is over by Redis's clock: then, of 10 admits at once on two workers, one probes.
    let answers: Admission[] = [];
    await until(async () => {
      answers = await Promise.all([a, b, a, b, a, b, a, b, a, b].map((w) => w.admit(HOST)));
      return answers.includes('probe');
    });
    expect(answers.filter((x) => x === 'probe')).toHaveLength(1);
    const prober = answers.indexOf('probe') % 2 === 0 ? a : b;
    prober.record(HOST, 'TIMEOUT', 'probe');
    await prober.settled();
    expect(prober.skipped(HOST)).toEqual({ failures: 2, lastCode: 'TIMEOUT' });
    // Its cool-down doubled (400 ms): poll for the next probe, and let it get an answer.
    let probe: Admission = 'closed';
    await until(async () => (probe = await b.admit(HOST)) === 'probe');
    b.record(HOST, 'response', 'probe');
    await b.settled();
    await a.refresh();
    expect(a.skipped(HOST)).toBeNull();
    expect(await a.admit(HOST)).toBe('closed');
  });

  it('a probe whose worker died is given up after probeHoldMs: another worker probes', async () => {
    const [qa, qb] = await workers(2);
    const a = new RedisBreaker(qa!, 1, { cooldownMs: 50, probeHoldMs: 300 });
    const b = new RedisBreaker(qb!, 1, { cooldownMs: 50, probeHoldMs: 300 });
    a.record(HOST, 'CONNECT');
    await a.settled();
    await until(async () => (await a.admit(HOST)) === 'probe');
    // a never records its probe. b fails fast until the hold runs out, then probes.
    await until(async () => (await b.admit(HOST)) === 'probe');
    b.record(HOST, 'response', 'probe');
    await b.settled();
    expect(await b.admit(HOST)).toBe('closed');
  });

  it('is off with 0 and checks its options', async () => {
    const [q] = await workers(1);
    const off = new RedisBreaker(q!, 0);
    off.record(HOST, 'CONNECT');
    await off.settled();
    expect(off.admit(HOST)).toBe('closed');
    expect(() => new RedisBreaker(q!, -1)).toThrow('Expected `maxHostErrors` to be an integer from 0 and up, got `-1` (number)');
    expect(() => new RedisBreaker(q!, 1, { cooldownMs: 0 })).toThrow('Expected `cooldownMs` to be an integer from 1 and up, got `0` (number)');
  });

  it('fuzz: one worker\'s Redis breaker trips and closes as the local HostBreaker does, record for record (seeded)', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
    const random = seeded(seed);
    const codes: (ErrorCode | 'response')[] = ['CONNECT', 'TIMEOUT', 'DNS', 'TLS', 'RESET', 'HTTP_STATUS', 'response'];
    const [q] = await workers(1);
    const max = 1 + Math.floor(random() * 4);
    const local = new HostBreaker(max, { cooldownMs: 600_000 });
    const shared = new RedisBreaker(q!, max, { cooldownMs: 600_000 });
    const hosts = ['a:1', 'b:2', 'c:3'];
    try {
      for (let step = 0; step < 300; step++) {
        const host = hosts[Math.floor(random() * hosts.length)]!;
        const outcome = codes[Math.floor(random() * codes.length)]!;
        local.record(host, outcome);
        shared.record(host, outcome);
        await shared.settled();
        for (const h of hosts) expect({ step, h, trip: shared.skipped(h) }).toEqual({ step, h, trip: local.skipped(h) });
      }
    } catch (error) {
      console.error(`fuzz seed ${seed} (FUZZ_SEED=${seed} to replay), max ${max}`);
      throw error;
    }
  });

  it('robots.txt: of two workers asking at once, one fetches and both get its outcome; later asks fetch nothing', async () => {
    const [qa, qb] = await workers(2);
    const a = new RedisRobotsStore(qa!);
    const b = new RedisRobotsStore(qb!);
    let fetches = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetch = async (): Promise<RobotsFile> => {
      fetches++;
      await gate;
      return { kind: 'text', text: 'User-agent: *\nDisallow: /private\n' };
    };
    const both = Promise.all([a.get('http://site.test', fetch), b.get('http://site.test', fetch)]);
    await until(() => fetches === 1);
    release();
    expect(await both).toEqual([{ kind: 'text', text: 'User-agent: *\nDisallow: /private\n' }, { kind: 'text', text: 'User-agent: *\nDisallow: /private\n' }]);
    expect(await new RedisRobotsStore(qb!).get('http://site.test', fetch)).toEqual({ kind: 'text', text: 'User-agent: *\nDisallow: /private\n' });
    expect(fetches).toBe(1);
    // Another origin is another file.
    expect(await a.get('http://other.test', async () => ({ kind: 'allow-all' }))).toEqual({ kind: 'allow-all' });
  });

  it('robots.txt: a fetcher that never finishes loses its lock when it runs out, and another worker fetches', async () => {
    const [qa, qb] = await workers(2);
    const stuck = new RedisRobotsStore(qa!, { lockMs: 300 });
    const b = new RedisRobotsStore(qb!, { lockMs: 300 });
    let started = false;
    void stuck.get('http://hung.test', () => {
      started = true;
      return new Promise<RobotsFile>(() => {});
    });
    await until(() => started);
    expect(await b.get('http://hung.test', async () => ({ kind: 'disallow-all' }))).toEqual({ kind: 'disallow-all' });
  });

  it('robots.txt: a fetch cut short by the worker stopping stores nothing', async () => {
    const [qa, qb] = await workers(2);
    const controller = new AbortController();
    const a = new RedisRobotsStore(qa!, { signal: controller.signal });
    expect(
      await a.get('http://stop.test', async () => {
        controller.abort();
        return { kind: 'disallow-all' };
      }),
    ).toEqual({ kind: 'disallow-all' });
    expect(await new RedisRobotsStore(qb!).get('http://stop.test', async () => ({ kind: 'text', text: '' }))).toEqual({ kind: 'text', text: '' });
  });
});
