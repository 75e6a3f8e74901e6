// Large bodies joined into buffers the parse threads give back (src/fetch/body-buffers.ts): what the recycler hands
// out, and a seeded run against a loopback server of big pages sent in pieces, plain and compressed, where every
// row must carry its own page's title (a buffer used again too soon gives a row another page's), and a run that
// keeps bodies gets each body in a buffer of its own size.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyBuffers, MIN_BYTES } from '../src/fetch/body-buffers.js';
import { joinChunks } from '../src/fetch/exchange.js';
import { fetchAll } from '../src/index.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';
import { rng } from './fixtures/rng.mjs';

describe('BodyBuffers', () => {
  it('gives a body below MIN_BYTES a plain buffer of its own size, and keeps none of that size', () => {
    const buffers = new BodyBuffers();
    const small = buffers.take(1000);
    expect(small.byteLength).toBe(1000);
    expect(small.buffer.byteLength).toBe(1000);
    buffers.give(small.buffer);
    expect(buffers.take(1000).buffer).not.toBe(small.buffer);
    expect(buffers.reused).toBe(0);
  });

  it('joins a large body into a buffer with room, and serves the next body of about that size from it once given back', () => {
    const buffers = new BodyBuffers();
    const first = buffers.take(150_000);
    expect(first.byteLength).toBe(150_000);
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBeGreaterThanOrEqual(150_000);
    // Not given back yet (on its way to a thread): a second body gets a buffer of its own.
    const second = buffers.take(150_000);
    expect(second.buffer).not.toBe(first.buffer);
    buffers.give(first.buffer);
    const third = buffers.take(149_000);
    expect(third.buffer).toBe(first.buffer);
    expect(third.byteLength).toBe(149_000);
    expect(buffers.reused).toBe(1);
    // Handed out once only.
    expect(buffers.take(149_000).buffer).not.toBe(first.buffer);
  });

  it('does not serve a much smaller body from a big buffer, nor a bigger body from a small one', () => {
    const buffers = new BodyBuffers();
    const big = buffers.take(1_000_000);
    buffers.give(big.buffer);
    expect(buffers.take(100_000).buffer).not.toBe(big.buffer);
    expect(buffers.take(2_000_000).buffer).not.toBe(big.buffer);
    expect(buffers.take(990_000).buffer).toBe(big.buffer);
  });

  it('holds no more than maxFreeBytes of buffers not in use', () => {
    const buffers = new BodyBuffers(400_000);
    const taken = [buffers.take(150_000), buffers.take(150_000), buffers.take(150_000)];
    for (const view of taken) buffers.give(view.buffer);
    // Two fit under the cap; the third was let go.
    const again = [buffers.take(150_000), buffers.take(150_000), buffers.take(150_000)];
    expect(buffers.reused).toBe(2);
    expect(again.filter((view) => taken.some((t) => t.buffer === view.buffer))).toHaveLength(2);
  });

  it('joinChunks writes the pieces in order into the buffer it takes, and only the body is in view', () => {
    const buffers = new BodyBuffers();
    const old = buffers.take(100_000);
    old.fill(0x78);
    buffers.give(old.buffer);
    const pieces = [new Uint8Array(40_000).fill(1), new Uint8Array(30_000).fill(2), new Uint8Array(29_000).fill(3)];
    const body = joinChunks(pieces, buffers);
    expect(body.buffer).toBe(old.buffer);
    expect(body.byteLength).toBe(99_000);
    expect([body[0], body[39_999], body[40_000], body[69_999], body[70_000], body[98_999]]).toEqual([1, 1, 2, 2, 3, 3]);
    expect(joinChunks(pieces).buffer.byteLength).toBe(99_000);
    expect(MIN_BYTES).toBeLessThanOrEqual(99_000);
  });
});

describe('a run of big pages through recycled buffers (seeded)', () => {
  const SEED = 20261207;
  const COUNT = 90;
  const pages = new Map<string, { title: string; body: Buffer; gzip: boolean; pieces: number }>();
  let server: TestServer;

  beforeAll(async () => {
    const random = rng(SEED);
    for (let i = 0; i < COUNT; i++) {
      const title = `page ${i} of seed ${SEED}`;
      // 66 KB to ~420 KB, with a pattern of its own, so that a page parsed from another page's bytes shows.
      const size = 66_000 + Math.floor(random() * 350_000);
      const filler = `<p>${String(i).repeat(Math.ceil(size / String(i).length)).slice(0, size)}</p>`;
      pages.set(`/big/${i}`, { title, body: Buffer.from(htmlPage(title, filler)), gzip: random() < 0.3, pieces: 1 + Math.floor(random() * 6) });
    }
    const send = (_req: unknown, res: import('node:http').ServerResponse, url: URL): void => {
      const page = pages.get(url.pathname);
      if (!page) return void res.writeHead(404).end();
      const body = page.gzip ? gzipSync(page.body) : page.body;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, ...(page.gzip ? { 'content-encoding': 'gzip' } : {}) });
      // In pieces, each its own write after a turn, so that the client reads the body in several chunks.
      const step = Math.ceil(body.length / page.pieces);
      let at = 0;
      const next = (): void => {
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, (at += step)));
        setImmediate(next);
      };
      next();
    };
    server = await createTestServer(Object.fromEntries([...pages.keys()].map((path) => [path, send])));
  });
  afterAll(() => server.close());

  it('gives every row its own page title, at several concurrencies and thread counts', async () => {
    const urls = [...pages.keys()].map((path) => `${server.url}${path}`);
    for (const [concurrency, threads] of [[4, 1], [16, 2], [48, 3]] as const) {
      const results = await fetchAll(urls, { concurrency, perHost: concurrency, threads, retries: 0, extract: { title: true } });
      expect(results).toHaveLength(COUNT);
      for (const result of results) {
        const page = pages.get(new URL(result.url).pathname);
        expect(result.error, result.url).toBeNull();
        expect(result.title, result.url).toBe(page?.title);
      }
    }
  });

  it('gives a run that keeps bodies each body in a buffer of its own size (no recycled buffer leaves the run)', async () => {
    const urls = [...pages.keys()].slice(0, 12).map((path) => `${server.url}${path}`);
    const results = await fetchAll(urls, { concurrency: 6, retries: 0, extract: { title: true }, body: 'bytes' });
    for (const result of results) {
      const page = pages.get(new URL(result.url).pathname);
      expect(result.title, result.url).toBe(page?.title);
      const body = result.body as Uint8Array;
      expect(Buffer.from(body).equals(page?.body as Buffer), result.url).toBe(true);
      // Joined from pieces: its own buffer, exactly its size (a single-piece body would be a view of undici's read).
      if (body.byteOffset === 0) expect(body.buffer.byteLength, result.url).toBe(body.byteLength);
    }
  });
});
