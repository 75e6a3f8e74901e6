import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MockAgent } from 'undici';
import type { ServerResponse } from 'node:http';
import { fetchAll, fetchEach, type FetchResult } from '../src/index.js';
import { READ_AHEAD } from '../src/pipeline.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';
import { liveHeap } from './fixtures/heap.js';

/** Answers a held-back request with an HTML page titled `title`. */
function sendPage(res: ServerResponse, title: string): void {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(htmlPage(title));
}

/** Handles that keep a process alive, by kind (a TTY is the test runner's own). */
const activeHandles = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
const countOf = (list: string[], kind: string): number => list.filter((r) => r === kind).length;
/** Sockets (client and this process's test servers alike), timers, and worker threads (their MessagePorts). */
const HANDLE_KINDS = ['TCPSocketWrap', 'Timeout', 'MessagePort'];

let server: TestServer;
let other: TestServer;
beforeAll(async () => {
  server = await createTestServer();
  other = await createTestServer();
});
afterAll(async () => {
  await Promise.all([server.close(), other.close()]);
});

describe('order', () => {
  it('yields results in completion order from fetchEach, and in input order from fetchAll', async () => {
    // The first URL is answered only once the consumer has seen the other two: it finishes last by construction.
    let release = (): void => {};
    const s = await createTestServer({
      '/last': (_q, res) => {
        release = () => sendPage(res, 'last');
      },
    });
    try {
      const urls = [`${s.url}/last`, `${s.url}/ok?t=a`, `${s.url}/ok?t=b`];
      const seen: string[] = [];
      for await (const r of fetchEach(urls, { retries: 0 })) {
        seen.push(r.url);
        if (seen.length === 2) release();
      }
      expect(seen).toEqual([expect.stringContaining('/ok?t='), expect.stringContaining('/ok?t='), urls[0]]);

      const pending = fetchAll(urls, { retries: 0 });
      await vi.waitFor(() => expect(s.hits('/last')).toBe(2), { timeout: 10_000 });
      release();
      const all = await pending;
      expect(all.map((r) => r.url)).toEqual(urls);
      expect(all[0]).toMatchObject({ ok: true, title: 'last' });
    } finally {
      await s.close();
    }
  });

  it('accepts any iterable: a Set, a generator, an async generator', async () => {
    const u = (t: string) => `${server.url}/ok?t=${t}`;
    async function* asyncGen() {
      yield u('x');
      yield u('y');
    }
    function* gen() {
      yield u('z');
    }
    expect((await fetchAll(new Set([u('s')]))).map((r) => r.title)).toEqual(['s']);
    expect((await fetchAll(gen())).map((r) => r.title)).toEqual(['z']);
    expect((await fetchAll(asyncGen())).map((r) => r.title)).toEqual(['x', 'y']);
  });

  it('drops repeated URLs with dedupe: no result for a repeat, one entry per distinct URL, invalid lines kept', async () => {
    const u = `${server.url}/ok?t=dup`;
    const other = `${server.url}/ok?t=other`;
    const input = [u, 'not a url', u, `${u}#frag`, 'not a url', other, u];
    // fetchAll: one entry per distinct URL in the order of first appearance, no holes where the repeats were.
    const results = await fetchAll(input, { dedupe: true, extract: false });
    expect(results.map((r) => r.url)).toEqual([u, 'not a url', 'not a url', other]);
    expect(Object.keys(results)).toHaveLength(4);
    expect(results.map((r) => r.error?.code ?? 'ok')).toEqual(['ok', 'INVALID_URL', 'INVALID_URL', 'ok']);
    expect(server.hits('/ok?t=dup')).toBe(1);
    // fetchEach: the same results, in completion order.
    const each: string[] = [];
    for await (const r of fetchEach(input, { dedupe: true, extract: false })) each.push(r.url);
    expect(each.sort()).toEqual([u, 'not a url', 'not a url', other].sort());
    // Without dedupe, every line gets its result.
    expect(await fetchAll(input, { extract: false })).toHaveLength(input.length);
  });
});

describe('limits', () => {
  it('never has more than `concurrency` requests at the server', async () => {
    const s = await createTestServer();
    try {
      const urls = Array.from({ length: 40 }, (_, i) => `${s.url}/slow?ms=50&i=${i}`);
      const results = await fetchAll(urls, { concurrency: 5, perHost: 100, extract: false });
      expect(results.every((r) => r.ok)).toBe(true);
      expect(s.log.maxInFlight).toBeLessThanOrEqual(5);
      expect(s.log.maxInFlight).toBeGreaterThan(1);
    } finally {
      await s.close();
    }
  });

  it('holds `perHost` per host while other hosts use the rest of `concurrency`', async () => {
    const a = await createTestServer();
    const b = await createTestServer();
    try {
      const urls = Array.from({ length: 30 }, (_, i) => `${a.url}/slow?ms=50&i=${i}`).concat(
        Array.from({ length: 30 }, (_, i) => `${b.url}/slow?ms=50&i=${i}`),
      );
      const results = await fetchAll(urls, { concurrency: 10, perHost: 3, extract: false });
      expect(results.every((r) => r.ok)).toBe(true);
      expect(a.log.maxInFlight).toBeLessThanOrEqual(3);
      expect(b.log.maxInFlight).toBeLessThanOrEqual(3);
      // Host b was listed after all of host a, yet it ran while a was still busy: no head-of-line blocking.
      const lastA = Math.max(...a.log.requests.map((r) => r.at));
      const firstB = Math.min(...b.log.requests.map((r) => r.at));
      expect(firstB).toBeLessThan(lastA);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('validates options at the edge, naming the option and the value', async () => {
    expect(() => fetchEach([], { concurrency: 0 })).toThrow('Expected `concurrency` to be an integer from 1 to 100000, got `0` (number)');
    expect(() => fetchEach([], { timeoutMs: 3_000_000_000 })).toThrow(/`timeoutMs`.*3000000000/);
    expect(() => fetchEach([], { method: 'FETCH' as 'GET' })).toThrow('Expected `method` to be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got `FETCH` (string)');
    expect(() => fetchEach([], { extract: { select: { x: 'div[' } } })).toThrow(/Invalid CSS selector for `x`/);
    expect(() => fetchEach([], { proxy: 'nope' })).toThrow(/`proxy`/);
    await expect(fetchAll([], { retries: -1 })).rejects.toThrow(RangeError);
    await expect(fetchAll(42 as unknown as string[])).rejects.toThrow(/Iterable/);
  });
});

describe('cancellation', () => {
  it('accounts for every started URL exactly once when aborted mid-run, unfinished ones CANCELLED', async () => {
    const controller = new AbortController();
    const urls = [
      ...Array.from({ length: 5 }, (_, i) => `${server.url}/ok?t=done${i}`),
      ...Array.from({ length: 20 }, (_, i) => `${server.url}/hang?i=${i}`),
    ];
    const results: FetchResult[] = [];
    let started = 0;
    const onProgress = (p: { started: number }) => (started = p.started);
    for await (const r of fetchEach(urls, { signal: controller.signal, concurrency: 8, perHost: 8, timeoutMs: 60_000, extract: false, onProgress })) {
      results.push(r);
      if (results.filter((x) => x.ok).length === 5) controller.abort();
    }
    expect(new Set(results.map((r) => r.url)).size).toBe(results.length);
    expect(results).toHaveLength(started);
    // Eight hanging in flight at least; beyond that only URLs that wanted a slot were taken from the source
    // (twice the concurrency), so a cancelled run has few never-requested URLs to report.
    expect(results.length).toBeGreaterThanOrEqual(5 + 8);
    expect(results.length).toBeLessThanOrEqual(5 + 2 * 8);
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    const cancelled = results.filter((r) => !r.ok);
    expect(cancelled.every((r) => r.error?.code === 'CANCELLED')).toBe(true);
    // The rows tell the requests that were cut off from the URLs that never went out.
    const inFlight = cancelled.filter((r) => r.error?.stage === 'request');
    const neverSent = cancelled.filter((r) => r.error?.stage === 'queued');
    expect(inFlight.length + neverSent.length).toBe(cancelled.length);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.length).toBeLessThanOrEqual(8);
    expect(inFlight.every((r) => r.url.includes('/hang'))).toBe(true);
  });

  it('resolves fetchAll with CANCELLED results when the signal fires', async () => {
    const controller = new AbortController();
    const pending = fetchAll([`${server.url}/hang?c=1`, `${server.url}/hang?c=2`], { signal: controller.signal, timeoutMs: 60_000 });
    // Cancelled once both requests are at the server: they are cut off on the wire.
    await vi.waitFor(() => expect(server.hits('/hang?c=1') + server.hits('/hang?c=2')).toBe(2), { timeout: 10_000 });
    controller.abort();
    const results = await pending;
    expect(results.map((r) => r.error?.code)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(results.map((r) => r.error?.stage)).toEqual(['request', 'request']);
  });

  it('starts nothing when the signal is already aborted', async () => {
    const results = await fetchAll([`${server.url}/ok?t=never`], { signal: AbortSignal.abort() });
    expect(results).toHaveLength(0);
    expect(server.hits('/ok?t=never')).toBe(0);
  });

  it('aborts in-flight requests when the consumer leaves the loop early, and leaves no socket or thread behind', async () => {
    let arrived = 0;
    let closed = 0;
    let answerFirst = (): void => {};
    const s = await createTestServer({
      // Answered once all five hanging requests are at the server, so they are in flight when the loop ends.
      '/first': (_q, res) => {
        answerFirst = () => sendPage(res, 'first');
        if (arrived === 5) answerFirst();
      },
      '/hang-here': (_q, res) => {
        res.once('close', () => closed++);
        if (++arrived === 5) answerFirst();
      },
    });
    try {
      const before = activeHandles();
      const urls = [`${s.url}/first`, ...Array.from({ length: 5 }, (_, i) => `${s.url}/hang-here?i=${i}`)];
      const seen: string[] = [];
      // Parsing is on, so the run has worker threads to release too.
      for await (const r of fetchEach(urls, { timeoutMs: 60_000, concurrency: 8, perHost: 8, threads: 1 })) {
        seen.push(r.title ?? '');
        break;
      }
      expect(seen).toEqual(['first']);
      expect(arrived).toBe(5);
      // Leaving the loop waited for the run to end: its parse threads are gone already ...
      expect(countOf(activeHandles(), 'MessagePort')).toBeLessThanOrEqual(countOf(before, 'MessagePort'));
      // ... and the five requests were aborted (they would hang for a minute): the server sees their connections
      // close, and no socket (client or server side) outlives the run.
      await vi.waitFor(() => expect(closed).toBe(5), { timeout: 5_000 });
      await vi.waitFor(() => {
        const after = activeHandles();
        for (const kind of HANDLE_KINDS) expect([kind, countOf(after, kind)]).toEqual([kind, Math.min(countOf(after, kind), countOf(before, kind))]);
      }, { timeout: 5_000 });
    } finally {
      await s.close();
    }
  });
});

describe('bounded memory', () => {

  it('streams 200,000 URLs with the source never read more than concurrency + read-ahead past the consumer', async () => {
    // A MockAgent answers in-process: this test is about the pipeline's bookkeeping, not sockets.
    const agent = new MockAgent({ connections: 1 });
    agent.disableNetConnect();
    agent.get('http://mock.test').intercept({ path: /.*/ }).reply(200, 'x', { headers: { 'content-type': 'text/plain' } }).persist();
    const total = 200_000;
    const concurrency = 64;
    let pulled = 0;
    let consumed = 0;
    let maxAhead = 0;
    async function* source() {
      for (let i = 0; i < total; i++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - consumed);
        yield `http://mock.test/${i}`;
      }
    }
    let ok = 0;
    let heapAt20k = 0;
    for await (const r of fetchEach(source(), { dispatcher: agent, concurrency, perHost: concurrency, extract: false })) {
      consumed++;
      if (r.ok) ok++;
      if (consumed === 20_000) heapAt20k = liveHeap();
    }
    await agent.close();
    expect(consumed).toBe(total);
    expect(ok).toBe(total);
    expect(maxAhead).toBeLessThanOrEqual(concurrency + READ_AHEAD + 1);
    // Flat: measured after a full collection, so it is what the run retains, not when the GC last ran (heapUsed
    // without one swung by 30 MB between runs on the CI machine). Keeping even 100 bytes for each of the other
    // 180,000 URLs would add 18 MB.
    const grown = liveHeap() - heapAt20k;
    expect(grown).toBeLessThan(12 * 1024 * 1024);
  }, 120_000);

  it('lets a slow consumer hold the source back (backpressure)', async () => {
    let pulled = 0;
    function* source() {
      for (let i = 0; i < 5_000; i++) {
        pulled++;
        yield `not-a-url-${i}`;
      }
    }
    const iterator = fetchEach(source(), { concurrency: 4, extract: false })[Symbol.asyncIterator]();
    await iterator.next();
    // Invalid lines finish without I/O: the feeder fills the window (results waiting for the consumer count in
    // it) and stops. Wait until it is full, then give it turns of the event loop to overrun it if it would.
    await vi.waitFor(() => expect(pulled).toBeGreaterThanOrEqual(4 + READ_AHEAD), { timeout: 10_000 });
    for (let turn = 0; turn < 5; turn++) await new Promise((r) => setImmediate(r));
    expect(pulled).toBeLessThanOrEqual(4 + READ_AHEAD + 1);
    await iterator.return?.();
  });
});

describe('clean ending', () => {
  it('leaves no sockets, timers or threads behind after a run', async () => {
    const before = activeHandles();
    const results = await fetchAll([`${server.url}/ok?t=clean`, `${server.url}/hang?clean=1`], { timeoutMs: 300, retries: 0 });
    expect(results.map((r) => r.error?.code ?? 'ok')).toEqual(['ok', 'TIMEOUT']);
    // Threads are joined before fetchAll resolves; a destroyed socket's handle closes within a turn or two.
    expect(countOf(activeHandles(), 'MessagePort')).toBeLessThanOrEqual(countOf(before, 'MessagePort'));
    await vi.waitFor(() => {
      const after = activeHandles();
      for (const kind of HANDLE_KINDS) expect([kind, countOf(after, kind)]).toEqual([kind, Math.min(countOf(after, kind), countOf(before, kind))]);
    }, { timeout: 5_000 });
  });
});

describe('reading URL files', () => {
  it('reads a file lazily, skipping blank lines and # comments, as the CLI does', async () => {
    const { readUrlFile } = await import('../src/index.js');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'volley-lines-'));
    try {
      const file = join(dir, 'urls.txt');
      writeFileSync(file, `# comment\n\n ${server.url}/ok?t=l1 \r\n${server.url}/ok?t=l2\n`);
      const results = await fetchAll(readUrlFile(file), { extract: false });
      expect(results.map((r) => r.url)).toEqual([`${server.url}/ok?t=l1`, `${server.url}/ok?t=l2`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
