// Bodies copied into one buffer as they arrive (fetch/body-buffer.ts): unit cases at the edges, then a seeded fuzz
// through a real server: sizes around both thresholds, with and without Content-Length, written in random pieces
// with pauses between them, read whole by the result (`body: 'bytes'`) and by the parse threads (a link at the
// very end of each page), and bodies that stop short of what they declared.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyBuffer, COPY_AS_READ_FROM, COPY_AS_READ_UP_TO } from '../src/fetch/body-buffer.js';
import { fetchAll } from '../src/index.js';
import { rng } from './fixtures/rng.mjs';

const bytes = (n: number, seed: number): Uint8Array => {
  const next = rng(seed);
  return Uint8Array.from({ length: n }, () => (next() * 256) | 0);
};

/** `data` in pieces of the given sizes (the last takes the rest). */
function piecesOf(data: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= data.length) break;
    out.push(data.subarray(at, at + size));
    at += size;
  }
  if (at < data.length) out.push(data.subarray(at));
  return out;
}

describe('BodyBuffer', () => {
  it('copies a declared body as it arrives into one buffer of its own', () => {
    const data = bytes(COPY_AS_READ_FROM + 5000, 1);
    const b = new BodyBuffer();
    b.expect(data.length);
    for (const piece of piecesOf(data, [1, 65_535, 3000, 7])) b.push(Buffer.from(piece));
    const { body, owned } = b.whole();
    expect(owned).toBe(true);
    expect(body.byteOffset).toBe(0);
    expect(body.buffer.byteLength).toBe(data.length);
    expect(Buffer.from(body).equals(Buffer.from(data))).toBe(true);
  });

  it('keeps a body of one piece as it came, and joins several into a fresh buffer', () => {
    const data = bytes(2000, 2);
    const one = new BodyBuffer();
    one.expect(data.length); // too small to be copied as it arrives
    const chunk = Buffer.from(data);
    one.push(chunk);
    expect(one.whole()).toEqual({ body: chunk, owned: false });
    expect(one.whole().body).toBe(chunk);

    const several = new BodyBuffer();
    for (const piece of piecesOf(data, [500, 700])) several.push(piece);
    const { body, owned } = several.whole();
    expect(owned).toBe(true);
    expect(body.buffer.byteLength).toBe(data.length);
    expect(Buffer.from(body).equals(Buffer.from(data))).toBe(true);
  });

  it('does not allocate a declared length past its cap, nor one that is no number', () => {
    for (const declared of [COPY_AS_READ_UP_TO + 1, Number.NaN, -1, COPY_AS_READ_FROM]) {
      const b = new BodyBuffer();
      b.expect(declared);
      const data = bytes(COPY_AS_READ_FROM + 10, 3);
      for (const piece of piecesOf(data, [COPY_AS_READ_FROM, 10])) b.push(piece);
      expect(Buffer.from(b.whole().body).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('gives what was read of a body that stopped short, and takes more than was declared', () => {
    const data = bytes(COPY_AS_READ_FROM * 2, 4);
    const short = new BodyBuffer();
    short.expect(data.length);
    short.push(data.subarray(0, 70_000));
    const sofar = short.sofar();
    expect(Buffer.from(sofar).equals(Buffer.from(data.subarray(0, 70_000)))).toBe(true);
    expect(sofar.buffer.byteLength).toBe(70_000);
    // whole() of a short body (undici reports a Content-Length mismatch first, so only a safeguard): a copy.
    expect(short.whole().body.byteLength).toBe(70_000);

    const over = new BodyBuffer();
    over.expect(COPY_AS_READ_FROM + 1);
    for (const piece of piecesOf(data, [60_000, 60_000])) over.push(piece);
    expect(Buffer.from(over.whole().body).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(over.sofar()).equals(Buffer.from(data))).toBe(true);
  });
});

interface Case {
  path: string;
  body: Buffer;
  declared: boolean;
  pieces: number[];
  /** Bytes sent before the connection is cut; the whole body when undefined. */
  cutAt?: number;
}

const SEED = 2212;
const cases: Case[] = [];
{
  const next = rng(SEED);
  const around = (n: number, spread: number) => Math.max(1, n - spread + Math.floor(next() * spread * 2));
  const sizes = [
    ...Array.from({ length: 6 }, () => around(COPY_AS_READ_FROM, 200)),
    ...Array.from({ length: 10 }, () => COPY_AS_READ_FROM + Math.floor(next() * 400_000)),
    ...Array.from({ length: 6 }, () => 200 + Math.floor(next() * 60_000)),
    ...Array.from({ length: 3 }, () => around(COPY_AS_READ_UP_TO, 50)),
  ];
  sizes.forEach((size, i) => {
    const end = `<a href="/end-${i}">end</a></body></html>`;
    const head = `<!doctype html><html><head><title>case ${i}</title></head><body><p>`;
    const fill = Math.max(0, size - head.length - end.length);
    const body = Buffer.from(head + 'x'.repeat(fill) + end);
    const pieces = Array.from({ length: 1 + Math.floor(next() * 12) }, () => 1 + Math.floor(next() * (next() < 0.3 ? 100 : 40_000)));
    cases.push({ path: `/case/${i}`, body, declared: next() < 0.75, pieces });
  });
  // Declared, then cut short: in the middle of a piece, and at the end of one.
  for (const [i, size] of [COPY_AS_READ_FROM + 30_000, 300_000].entries()) {
    const body = Buffer.from(`<title>short ${i}</title>` + 'y'.repeat(size));
    cases.push({ path: `/short/${i}`, body, declared: true, pieces: [40_000, 40_000], cutAt: 50_000 + i * 30_000 });
  }
}

let server: Server;
let base = '';
beforeAll(async () => {
  const byPath = new Map(cases.map((c) => [c.path, c]));
  server = createServer(async (req, res) => {
    const c = byPath.get(req.url ?? '');
    if (!c) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html', ...(c.declared ? { 'content-length': String(c.body.length) } : {}) });
    const data = c.cutAt === undefined ? c.body : c.body.subarray(0, c.cutAt);
    for (const piece of piecesOf(data, c.pieces)) {
      res.write(piece);
      // A turn between pieces, so that they reach the client in separate reads.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (c.cutAt === undefined) res.end();
    else res.socket?.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe(`bodies read in pieces (seed ${SEED})`, () => {
  const whole = cases.filter((c) => c.cutAt === undefined);
  const short = cases.filter((c) => c.cutAt !== undefined);
  const options = { retries: 0, timeoutMs: 30_000, concurrency: 6, maxBytes: 4 * 1024 * 1024 };

  it('keeps every body byte for byte, and the parser sees each to its last link', async () => {
    const results = await fetchAll([...whole, ...short].map((c) => `${base}${c.path}`), { ...options, body: 'bytes', extract: { links: true } });
    whole.forEach((c, i) => {
      const r = results[i]!;
      expect(r, c.path).toMatchObject({ ok: true, bytes: c.body.length, title: `case ${i}` });
      expect(Buffer.from(r.body as Uint8Array).equals(c.body), c.path).toBe(true);
      expect(r.links, c.path).toContain(`${base}/end-${i}`);
    });
    for (const [j, c] of short.entries()) {
      const r = results[whole.length + j]!;
      expect(r.ok, c.path).toBe(false);
      expect(r.body, c.path).toBeUndefined();
      expect(r.status, c.path).toBe(200);
    }
  });

  it('hands each page to the parse threads whole when no body is kept (the buffer is transferred)', async () => {
    const results = await fetchAll(whole.map((c) => `${base}${c.path}`), { ...options, extract: { links: true } });
    whole.forEach((c, i) => {
      expect(results[i], c.path).toMatchObject({ ok: true, bytes: c.body.length, title: `case ${i}` });
      expect(results[i]!.links, c.path).toContain(`${base}/end-${i}`);
    });
  });
});
