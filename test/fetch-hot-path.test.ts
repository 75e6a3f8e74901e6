import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { fetchAll } from '../src/index.js';
import { htmlPage } from './fixtures/server.js';

// The fetch hot path (issue 12 §4): responses read by volley's own dispatch handler (fetch/client.ts), one deadline
// queue per run (fetch/deadline.ts), the global limit (p-limit), connections per origin capped.

/** 2 MB of HTML, gzipped: its decoded bytes go through the stream into node:zlib, with backpressure. */
const BIG_HTML = htmlPage('big gzip', '<p>lorem ipsum dolor sit amet</p>'.repeat(60_000));
const BIG_GZIP = gzipSync(BIG_HTML);

let server: Server;
let base = '';
let connections = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/page':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(htmlPage(url.searchParams.get('t') ?? 'page'));
        return;
      case '/big-gzip':
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
        // In 16 KiB pieces, chunked: many data callbacks, none declaring the length.
        for (let i = 0; i < BIG_GZIP.length; i += 16 * 1024) res.write(BIG_GZIP.subarray(i, i + 16 * 1024));
        res.end();
        return;
      case '/early-hints':
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(htmlPage('after hints'));
        return;
      case '/endless-404':
        // An error status whose body never ends: drained up to 64 KiB, then the connection is closed.
        res.writeHead(404, { 'content-type': 'text/html' });
        res.write(Buffer.alloc(100 * 1024, 0x20));
        return;
      case '/long-404':
        // Declared larger than the drain limit: closed at once, never read.
        res.writeHead(404, { 'content-type': 'text/plain', 'content-length': String(1024 * 1024) });
        res.write(Buffer.alloc(1024, 0x20));
        return;
      default:
        res.writeHead(500).end();
    }
  });
  server.on('connection', () => connections++);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const fast = { retries: 0, timeoutMs: 60_000 };

describe('reading responses through the dispatch handler', () => {
  it('decodes a large gzip body sent in many chunks, whole', async () => {
    const [r] = await fetchAll([`${base}/big-gzip`], { ...fast, maxBytes: 10 * 1024 * 1024 });
    expect(r).toMatchObject({ ok: true, status: 200, title: 'big gzip', bytes: Buffer.byteLength(BIG_HTML) });
  });

  it('stops a large gzip body at maxBytes (decoded bytes)', async () => {
    const [r] = await fetchAll([`${base}/big-gzip`], { ...fast, maxBytes: 100_000 });
    expect(r).toMatchObject({ ok: false, status: 200, error: { code: 'TOO_LARGE' } });
  });

  it('skips an interim 103 Early Hints and reads the response that follows', async () => {
    const [r] = await fetchAll([`${base}/early-hints`], fast);
    expect(r).toMatchObject({ ok: true, status: 200, title: 'after hints' });
  });

  it('reports an error status whose body never ends as that status: the body is drained only up to its limit', async () => {
    // With a 60 s deadline: were the body read to its end, this would not finish before the test's own timeout.
    const results = await fetchAll([`${base}/endless-404`, `${base}/long-404`], fast);
    expect(results.map((r) => [r.status, r.error?.code])).toEqual([
      [404, 'HTTP_STATUS'],
      [404, 'HTTP_STATUS'],
    ]);
  });
});

describe('connections', () => {
  it('opens no more connections to an origin than requests can be in flight to it', async () => {
    const before = connections;
    const urls = Array.from({ length: 200 }, (_, i) => `${base}/page?t=${i}`);
    const results = await fetchAll(urls, { ...fast, concurrency: 16, perHost: 4, extract: false });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(connections - before).toBeLessThanOrEqual(4);
    const again = connections;
    await fetchAll(urls, { ...fast, concurrency: 3, perHost: 8, extract: false });
    expect(connections - again).toBeLessThanOrEqual(3);
  });
});
