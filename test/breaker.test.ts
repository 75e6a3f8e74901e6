import { afterEach, describe, expect, it } from 'vitest';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { setTimeout as wait } from 'node:timers/promises';
import { ERROR_CODES, FetchError } from '../src/errors.js';
import { fetchEach, fetchAll, type FetchResult } from '../src/index.js';
import { normalizeOptions } from '../src/options.js';
import { failedResult } from '../src/result.js';
import { Tally } from '../src/cli/summary.js';
import { HOST_FAILURE_CODES, HostBreaker, MAX_COOLDOWN_MS, hostSkippedError, hostSkippedMessage } from '../src/schedule/breaker.js';

const HOST = '127.0.0.1:8080';

/** A clock the test moves by hand: no real waiting, no timing asserts. */
function fakeClock(start = 1_000) {
  let t = start;
  return {
    now: (): number => t,
    advance(ms: number): void {
      t += ms;
    },
  };
}

/** A breaker tripped open on HOST after `n` CONNECT failures, with a fake clock. */
function tripped(n = 3, cooldownMs = 30_000) {
  const clock = fakeClock();
  const breaker = new HostBreaker(n, { cooldownMs, now: clock.now });
  for (let i = 1; i < n; i++) breaker.record(HOST, 'CONNECT');
  expect(breaker.record(HOST, 'CONNECT')).toBe(true);
  return { breaker, clock };
}

describe('HostBreaker: closed', () => {
  it('opens after N consecutive CONNECT, DNS, TLS or TIMEOUT failures', () => {
    const breaker = new HostBreaker(4, { now: fakeClock().now });
    for (const code of ['CONNECT', 'DNS', 'TLS'] as const) expect(breaker.record(HOST, code)).toBe(false);
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.admit(HOST)).toBe('closed');
    expect(breaker.record(HOST, 'TIMEOUT')).toBe(true);
    expect(breaker.skipped(HOST)).toEqual({ failures: 4, lastCode: 'TIMEOUT' });
    expect(breaker.admit(HOST)).toEqual({ failures: 4, lastCode: 'TIMEOUT' });
  });

  it('counts exactly the codes that show the host unreachable: not RESET', () => {
    expect([...HOST_FAILURE_CODES].sort()).toEqual(['CONNECT', 'DNS', 'TIMEOUT', 'TLS']);
  });

  it('resets the count on any response, whatever its status', () => {
    const breaker = new HostBreaker(3);
    breaker.record(HOST, 'TIMEOUT');
    breaker.record(HOST, 'TIMEOUT');
    breaker.record(HOST, 'response');
    breaker.record(HOST, 'TIMEOUT');
    breaker.record(HOST, 'TIMEOUT');
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.record(HOST, 'TIMEOUT')).toBe(true);
    expect(breaker.skipped(HOST)).toEqual({ failures: 3, lastCode: 'TIMEOUT' });
  });

  it('does not count malformed responses, resets or HTTP errors: a host that answers badly is answering', () => {
    const breaker = new HostBreaker(3);
    breaker.record(HOST, 'CONNECT');
    breaker.record(HOST, 'CONNECT');
    for (let i = 0; i < 50; i++) expect(breaker.record(HOST, 'RESET')).toBe(false);
    for (const code of ERROR_CODES.filter((c) => !HOST_FAILURE_CODES.has(c))) expect(breaker.record(HOST, code)).toBe(false);
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.record(HOST, 'CONNECT')).toBe(true);
  });

  it('counts each host (hostname:port) on its own', () => {
    const breaker = new HostBreaker(2);
    breaker.record('a.test:80', 'DNS');
    breaker.record('a.test:8080', 'DNS');
    breaker.record('b.test:443', 'TLS');
    expect(breaker.skipped('a.test:80')).toBeNull();
    breaker.record('b.test:443', 'TLS');
    breaker.record('a.test:80', 'DNS');
    expect(breaker.skippedHosts()).toEqual([
      { host: 'b.test:443', failures: 2, lastCode: 'TLS' },
      { host: 'a.test:80', failures: 2, lastCode: 'DNS' },
    ]);
    expect(breaker.skipped('a.test:8080')).toBeNull();
  });

  it('keeps only hosts with a failure streak or an open breaker', () => {
    const breaker = new HostBreaker(3);
    for (let i = 0; i < 1000; i++) breaker.record(`ok${i}.test:443`, 'response');
    for (let i = 0; i < 1000; i++) breaker.record(`url${i}.test:443`, 'HTTP_STATUS');
    expect(breaker.size).toBe(0);
    breaker.record('flaky.test:443', 'CONNECT');
    breaker.record('dead.test:443', 'CONNECT');
    breaker.record('dead.test:443', 'CONNECT');
    breaker.record('dead.test:443', 'CONNECT');
    expect(breaker.size).toBe(2);
    breaker.record('flaky.test:443', 'response');
    expect(breaker.size).toBe(1);
    breaker.record('dead.test:443', 'response');
    expect(breaker.size).toBe(0);
  });

  it('trips on the first failure with N = 1', () => {
    const breaker = new HostBreaker(1);
    expect(breaker.record(HOST, 'DNS')).toBe(true);
    expect(breaker.skipped(HOST)).toEqual({ failures: 1, lastCode: 'DNS' });
  });

  it('is off with 0: nothing is counted or skipped', () => {
    const breaker = new HostBreaker(0);
    expect(breaker.enabled).toBe(false);
    for (let i = 0; i < 100; i++) expect(breaker.record(HOST, 'TIMEOUT')).toBe(false);
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.admit(HOST)).toBe('closed');
    expect(breaker.skippedHosts()).toEqual([]);
  });
});

describe('HostBreaker: open, half-open, closed again', () => {
  it('fails fast while open and trips only once', () => {
    const { breaker, clock } = tripped(2);
    expect(breaker.record(HOST, 'CONNECT')).toBe(false);
    clock.advance(29_999);
    expect(breaker.skipped(HOST)).toEqual({ failures: 2, lastCode: 'CONNECT' });
    expect(breaker.admit(HOST)).toEqual({ failures: 2, lastCode: 'CONNECT' });
    expect(breaker.counts).toEqual({ tripped: 1, closedAgain: 0, open: 1 });
  });

  it('ignores unreachable failures of requests that went out before the trip', () => {
    const { breaker, clock } = tripped(2);
    for (let i = 0; i < 5; i++) breaker.record(HOST, 'TIMEOUT');
    expect(breaker.cooldownOf(HOST)).toBe(30_000);
    clock.advance(30_000);
    expect(breaker.admit(HOST)).toBe('probe');
  });

  it('goes half-open after the cool-down: exactly one probe, the others still fail fast', () => {
    const { breaker, clock } = tripped(3);
    clock.advance(30_000);
    // The look before a request waits for its turn lets it on; `admit` decides.
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.admit(HOST)).toBe('probe');
    expect(breaker.skipped(HOST)).toEqual({ failures: 3, lastCode: 'CONNECT' });
    for (let i = 0; i < 10; i++) expect(breaker.admit(HOST)).toEqual({ failures: 3, lastCode: 'CONNECT' });
    clock.advance(60 * 60_000);
    expect(breaker.admit(HOST)).toEqual({ failures: 3, lastCode: 'CONNECT' });
  });

  it('closes when the probe gets any response: the host is fetched again', () => {
    const { breaker, clock } = tripped(3);
    clock.advance(30_000);
    expect(breaker.admit(HOST)).toBe('probe');
    expect(breaker.record(HOST, 'response', 'probe')).toBe(false);
    expect(breaker.skipped(HOST)).toBeNull();
    for (let i = 0; i < 5; i++) expect(breaker.admit(HOST)).toBe('closed');
    expect(breaker.size).toBe(0);
    expect(breaker.counts).toEqual({ tripped: 1, closedAgain: 1, open: 0 });
    // Closed means counting from zero again, and the next trip starts from the first cool-down.
    breaker.record(HOST, 'CONNECT');
    breaker.record(HOST, 'CONNECT');
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.record(HOST, 'CONNECT')).toBe(true);
    expect(breaker.cooldownOf(HOST)).toBe(30_000);
    expect(breaker.counts).toEqual({ tripped: 2, closedAgain: 1, open: 1 });
  });

  it('opens again with the cool-down doubled when the probe finds the host unreachable', () => {
    const { breaker, clock } = tripped(3);
    clock.advance(30_000);
    expect(breaker.admit(HOST)).toBe('probe');
    expect(breaker.record(HOST, 'TIMEOUT', 'probe')).toBe(false);
    expect(breaker.skipped(HOST)).toEqual({ failures: 4, lastCode: 'TIMEOUT' });
    expect(breaker.cooldownOf(HOST)).toBe(60_000);
    clock.advance(59_999);
    expect(breaker.admit(HOST)).toEqual({ failures: 4, lastCode: 'TIMEOUT' });
    clock.advance(1);
    expect(breaker.admit(HOST)).toBe('probe');
  });

  it('caps the doubled cool-down at 10 minutes', () => {
    const { breaker, clock } = tripped(1);
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      clock.advance(breaker.cooldownOf(HOST)!);
      expect(breaker.admit(HOST)).toBe('probe');
      breaker.record(HOST, 'CONNECT', 'probe');
      seen.push(breaker.cooldownOf(HOST)!);
    }
    expect(seen).toEqual([60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000, 600_000]);
    expect(MAX_COOLDOWN_MS).toBe(600_000);
  });

  it('keeps a first cool-down longer than the cap as the cap', () => {
    const { breaker, clock } = tripped(1, 3_600_000);
    clock.advance(3_600_000);
    expect(breaker.admit(HOST)).toBe('probe');
    breaker.record(HOST, 'DNS', 'probe');
    expect(breaker.cooldownOf(HOST)).toBe(3_600_000);
  });

  it('lets the next request probe when a probe proves nothing (a reset, a cancel)', () => {
    const { breaker, clock } = tripped(2);
    clock.advance(30_000);
    expect(breaker.admit(HOST)).toBe('probe');
    breaker.record(HOST, 'RESET', 'probe');
    expect(breaker.cooldownOf(HOST)).toBe(30_000);
    expect(breaker.admit(HOST)).toBe('probe');
    breaker.record(HOST, 'CANCELLED', 'probe');
    expect(breaker.admit(HOST)).toBe('probe');
  });

  it('closes on a response to a request that went out before the trip: the host answers', () => {
    const { breaker } = tripped(2);
    breaker.record(HOST, 'response', 'closed');
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.admit(HOST)).toBe('closed');
    expect(breaker.counts).toEqual({ tripped: 1, closedAgain: 1, open: 0 });
  });

  it('hands out copies: the caller cannot change what it keeps', () => {
    const { breaker } = tripped(1);
    const trip = breaker.skipped(HOST)!;
    trip.failures = 99;
    expect(breaker.skipped(HOST)).toEqual({ failures: 1, lastCode: 'CONNECT' });
  });
});

describe('HostBreaker: validation', () => {
  it('rejects a maxHostErrors that is not an integer from 0 up', () => {
    expect(() => new HostBreaker(-1)).toThrow(new RangeError('Expected `maxHostErrors` to be an integer from 0 and up, got `-1` (number)'));
    expect(() => new HostBreaker(1.5)).toThrow(RangeError);
    expect(() => new HostBreaker(Number.NaN)).toThrow(RangeError);
    expect(() => new HostBreaker('10' as unknown as number)).toThrow('got `10` (string)');
  });

  it('rejects a cool-down that is not an integer from 1 up', () => {
    expect(() => new HostBreaker(10, { cooldownMs: 0 })).toThrow(new RangeError('Expected `cooldownMs` to be an integer from 1 and up, got `0` (number)'));
  });

  it('takes hostCooldownMs as a library option, 30 s by default, and names a bad value', () => {
    expect(normalizeOptions({}).hostCooldownMs).toBe(30_000);
    expect(normalizeOptions({ hostCooldownMs: 5 }).hostCooldownMs).toBe(5);
    expect(() => normalizeOptions({ hostCooldownMs: 0 })).toThrow('Expected `hostCooldownMs` to be an integer from 1 to 2147483647, got `0` (number)');
    expect(() => normalizeOptions({ hostCooldownMs: '30s' as unknown as number })).toThrow(/`hostCooldownMs`.*30s/);
  });
});

describe('HOST_SKIPPED', () => {
  it('is a stable error code', () => {
    expect(ERROR_CODES).toContain('HOST_SKIPPED');
  });

  it('says how many consecutive failures and the last code', () => {
    expect(hostSkippedMessage(HOST, { failures: 10, lastCode: 'TIMEOUT' })).toBe('host 127.0.0.1:8080 skipped after 10 consecutive failures (last: TIMEOUT)');
    expect(hostSkippedMessage(HOST, { failures: 1, lastCode: 'DNS' })).toBe('host 127.0.0.1:8080 skipped after 1 consecutive failure (last: DNS)');
  });

  it("builds the FetchError a skipped host's URLs fail with: no status", () => {
    const error = hostSkippedError(HOST, { failures: 3, lastCode: 'CONNECT' });
    expect(error).toMatchObject({ code: 'HOST_SKIPPED', status: null, message: 'host 127.0.0.1:8080 skipped after 3 consecutive failures (last: CONNECT)' });
  });
});

describe('the end-of-run summary', () => {
  const skippedRow = (url: string): FetchResult => failedResult(url, hostSkippedError(new URL(url).host, { failures: 3, lastCode: 'CONNECT' }));
  const okRow = (url: string): FetchResult => ({ ...failedResult(url, new FetchError('HTTP_STATUS', 'HTTP 404', { status: 404 })), finalUrl: url });
  const line = (tally: Tally): string | undefined => tally.render(null).split('\n').find((l) => l.includes('--max-host-errors'));

  it('says which hosts tripped, how many are still open at the end and how many closed again', () => {
    const tally = new Tally();
    tally.add(skippedRow('http://a.test/1'));
    tally.add(skippedRow('http://b.test:8080/1'));
    tally.add(skippedRow('http://b.test:8080/2'));
    tally.add(failedResult('http://a.test/2', new FetchError('CONNECT', 'could not connect (ECONNREFUSED)')));
    // b's probe got a response (a 404 is a response): closed again.
    tally.add(okRow('http://b.test:8080/3'));
    tally.add(okRow('http://c.test/'));
    expect(line(tally)).toBe('  skipped hosts (--max-host-errors): a.test, b.test:8080 (closed again); 2 tripped: 1 still open at the end, 1 closed again');
  });

  it('counts a host that tripped again after it closed as open', () => {
    const tally = new Tally();
    tally.add(skippedRow('http://a.test/1'));
    tally.add(okRow('http://a.test/2'));
    tally.add(skippedRow('http://a.test/3'));
    expect(line(tally)).toBe('  skipped hosts (--max-host-errors): a.test; 1 tripped: 1 still open at the end, 0 closed again');
  });

  it('has no breaker line when no host tripped', () => {
    const tally = new Tally();
    tally.add(okRow('http://a.test/'));
    expect(line(tally)).toBeUndefined();
  });
});

describe('the breaker in a run, against loopback servers', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0)) await close();
  });

  /** An HTTP server on 127.0.0.1 that can stop listening and listen again on the same port. */
  async function flappingServer() {
    let requests = 0;
    const server: HttpServer = createHttpServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
    });
    const listen = (port: number): Promise<number> =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve((server.address() as { port: number }).port);
        });
      });
    const stop = (): Promise<void> =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    cleanup.push(stop);
    const port = await listen(0);
    return { port, listen: () => listen(port), stop, requests: () => requests };
  }

  it('skips a host that refuses connections, then fetches it again once a probe gets through', async () => {
    const server = await flappingServer();
    await server.stop();
    const url = (i: number): string => `http://127.0.0.1:${server.port}/p${i}`;
    const results: FetchResult[] = [];
    // The source yields one URL at a time and waits for its row, so the test decides what each URL meets.
    const turn = { took: (): void => {} };
    const taken = (): Promise<void> => new Promise((resolve) => (turn.took = resolve));
    let i = 0;
    async function* source(): AsyncGenerator<string> {
      // Down: three refusals trip the breaker; the next URLs are skipped (or probed, should the cool-down be over).
      for (; i < 5; i++) {
        const next = taken();
        yield url(i);
        await next;
      }
      await server.listen();
      // Up again: URLs go one by one until the cool-down is over and the probe gets through.
      do {
        if (i > 2_000) throw new Error('the breaker never let a probe through');
        const next = taken();
        yield url(i++);
        await next;
        if (results.at(-1)?.error?.code === 'HOST_SKIPPED') await wait(2);
      } while (results.at(-1)?.error !== null);
      for (let k = 0; k < 5; k++, i++) yield url(i);
    }
    for await (const result of fetchEach(source(), { concurrency: 1, retries: 0, maxHostErrors: 3, hostCooldownMs: 5, extract: false })) {
      results.push(result);
      turn.took();
    }

    const down = results.slice(0, 5);
    expect(down.slice(0, 3).map((r) => r.error?.code)).toEqual(['CONNECT', 'CONNECT', 'CONNECT']);
    for (const r of down.slice(3)) expect(['CONNECT', 'HOST_SKIPPED']).toContain(r.error?.code);
    const probe = results.findIndex((r, k) => k >= 5 && r.ok);
    expect(probe).toBeGreaterThanOrEqual(5);
    // Between the comeback and the probe, only skips: never requested.
    for (const r of results.slice(5, probe)) expect(r).toMatchObject({ error: { code: 'HOST_SKIPPED' }, attempts: 0 });
    // The probe closed the breaker: every later URL of the host was fetched.
    const after = results.slice(probe);
    expect(after).toHaveLength(6);
    for (const r of after) expect(r).toMatchObject({ ok: true, status: 200 });
    expect(server.requests()).toBe(6);
  });

  it('never skips a host whose answers are malformed: it is answering', async () => {
    const sockets = new Set<Socket>();
    const garbage: NetServer = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
      socket.once('data', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    cleanup.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => garbage.close(resolve));
    });
    const { port } = garbage.address() as { port: number };
    const urls = Array.from({ length: 12 }, (_, k) => `http://127.0.0.1:${port}/m${k}`);
    const results = await fetchAll(urls, { concurrency: 2, retries: 0, maxHostErrors: 2, extract: false });
    expect(results).toHaveLength(12);
    for (const r of results) expect(r.error?.code).toBe('RESET');
  });
});
