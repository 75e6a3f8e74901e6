// Issue 19: a compressed body that was not quite right (junk after a deflate stream, a brotli stream cut short, random
// bytes) made its row vanish and the run exit 0. The seeded fuzz of encoded-cases.mjs, at two levels: the decoder
// alone (every case settles exactly once, and the answer does not depend on how the bytes were cut into chunks),
// and whole runs against a real server (one row per URL, valid bodies ok with their title, the rest ok or DECODE).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BodyDecoder } from '../src/fetch/content-encoding.js';
import { FetchError } from '../src/errors.js';
import { fetchAll, fetchEach, type FetchResult } from '../src/index.js';
import { CODINGS, KINDS, encodedCase, piecesOf } from './fixtures/encoded-cases.mjs';
import { createChaosServer, type ChaosServer } from './fixtures/chaos-server.mjs';

const SEEDS = [19, 20261204, 7];
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

interface Outcome {
  /** How many times the decoder settled (must be 1). */
  settled: number;
  ok: boolean;
  bytes: number;
  text: string;
}

/** Feeds `pieces` to a BodyDecoder and resolves when it settles (a decoder that never does hangs the test). */
function decode(header: string, pieces: Uint8Array[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const outcome: Outcome = { settled: 0, ok: false, bytes: 0, text: '' };
    const finish = (ok: boolean): void => {
      outcome.settled++;
      if (outcome.settled > 1) return;
      outcome.ok = ok;
      const body = Buffer.concat(out);
      outcome.bytes = body.length;
      outcome.text = body.toString('latin1');
      // A second settle would show in `settled`: give it a turn to happen.
      setImmediate(() => resolve(outcome));
    };
    const decoder = new BodyDecoder(header, {
      data: (chunk) => out.push(chunk),
      end: () => finish(true),
      error: (err) => {
        expect(err).toBeInstanceOf(FetchError);
        expect(err.code).toBe('DECODE');
        finish(false);
      },
    });
    // Backpressure is honoured as the client does: wait for drain before the next piece.
    let i = 0;
    const next = (): void => {
      while (i < pieces.length) {
        if (!decoder.write(Buffer.from(pieces[i++]!))) return decoder.onDrain(next);
      }
      decoder.end();
    };
    next();
  });
}

describe('the decoders under a seeded fuzz', () => {
  it('settles every case exactly once, with the same answer however the body is cut into chunks', async () => {
    const counts = new Map<string, number>();
    for (let n = 0; n < 1500; n++) {
      const c = encodedCase(SEEDS[0]!, n);
      const whole = await decode(c.header, [c.body]);
      const split = await decode(c.header, piecesOf(c));
      // Byte by byte, for the short ones: the cruelest cut.
      const bytes = c.body.length <= 120 ? await decode(c.header, [...c.body].map((b) => Uint8Array.of(b))) : split;
      for (const o of [whole, split, bytes]) expect(o.settled, `case ${n} (${c.coding} ${c.kind})`).toBe(1);
      // What a failed decode produced before failing is not the answer: only ok and, when ok, the body.
      const answer = (o: Outcome): string => (o.ok ? `ok ${o.bytes} ${o.text}` : 'DECODE');
      expect(answer(split), `case ${n} (${c.coding} ${c.kind}) split at ${c.chunks}`).toBe(answer(whole));
      expect(answer(bytes), `case ${n} (${c.coding} ${c.kind}) byte by byte`).toBe(answer(whole));
      if (c.kind === 'valid') expect(whole.text, `case ${n} (${c.coding})`).toBe(c.html);
      // Junk after an inflate or brotli stream is ignored: the page comes out whole.
      if (c.kind === 'junk' && !c.coding.includes('gzip')) expect(whole.text, `case ${n} (${c.coding} + junk)`).toBe(c.html);
      const key = `${c.coding}/${c.kind}/${whole.ok ? 'ok' : 'DECODE'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // Every coding and kind was drawn.
    for (const coding of CODINGS) for (const kind of KINDS) expect([...counts.keys()].some((k) => k.startsWith(`${coding}/${kind}/`)), `${coding}/${kind}`).toBe(true);
  }, 120_000);

  it('gives what decoded for a stream cut short, and DECODE for corrupt data, in every coding', async () => {
    const { gzipSync, deflateSync, deflateRawSync, brotliCompressSync } = await import('node:zlib');
    const page = Buffer.from(`<title>t</title>${'lorem ipsum '.repeat(2000)}`);
    for (const [header, encoded] of [
      ['gzip', gzipSync(page)],
      ['deflate', deflateSync(page)],
      ['deflate', deflateRawSync(page)],
      ['br', brotliCompressSync(page)],
    ] as const) {
      const cut = await decode(header, [encoded.subarray(0, Math.floor(encoded.length / 2))]);
      expect(cut.ok, `${header} cut`).toBe(true);
      expect(page.toString('latin1').startsWith(cut.text), `${header} cut gives a prefix`).toBe(true);
      const corrupt = Buffer.from(encoded);
      corrupt.fill(0xff, 2, Math.min(corrupt.length, 40));
      expect((await decode(header, [corrupt])).ok, `${header} corrupt`).toBe(false);
    }
  });

  it('reads an empty body with a Content-Encoding as an empty body', async () => {
    for (const header of ['gzip', 'deflate', 'br', 'gzip, br']) expect(await decode(header, [])).toMatchObject({ settled: 1, ok: true, bytes: 0 });
  });
});

describe('runs over the fuzz, against a real server', () => {
  let servers: ChaosServer[];
  beforeAll(async () => {
    servers = await Promise.all(SEEDS.map((seed) => createChaosServer({ seed })));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  /** The one-chunk decode of case `n`: what its row must say. */
  async function reference(seed: number, n: number): Promise<Outcome> {
    const c = encodedCase(seed, n);
    return decode(c.header, [c.body]);
  }

  it('gives every URL exactly one row: valid bodies ok with their title, the rest ok with what decoded or DECODE (fetchAll, three seeds)', async () => {
    for (const server of servers) {
      const count = 1000;
      const urls = Array.from({ length: count }, (_, n) => server.encodedUrlFor(n));
      const rows = await fetchAll(urls, { concurrency: 32, retries: 0, timeoutMs: 10_000 });
      expect(rows).toHaveLength(count);
      for (let n = 0; n < count; n++) {
        const r = rows[n]!;
        const c = encodedCase(server.seed, n);
        const label = `seed ${server.seed} case ${n}: ${c.coding} ${c.kind} ${c.framing} ${c.keepAlive ? 'keep-alive' : 'close'}`;
        expect(r.url, label).toBe(urls[n]);
        const want = await reference(server.seed, n);
        expect(r.ok ? 'ok' : r.error?.code, label).toBe(want.ok ? 'ok' : 'DECODE');
        if (r.ok) expect(r.bytes, label).toBe(want.bytes);
        if (c.kind === 'valid') expect(r.title, label).toBe(c.title);
      }
    }
  }, 120_000);

  it('settles fetchEach for every URL of the chaos mix, compressed fuzz included', async () => {
    const server = servers[1]!;
    const urls = Array.from({ length: 600 }, (_, n) => server.urlFor(n));
    const seen: FetchResult[] = [];
    for await (const r of fetchEach(urls, { concurrency: 64, retries: 0, timeoutMs: 2_000, maxBytes: 1000 })) seen.push(r);
    expect(seen.map((r) => r.url).sort()).toEqual([...urls].sort());
    expect(server.served.get('encoded-fuzz')).toBeGreaterThan(0);
  }, 60_000);

  it('writes one row per URL through the CLI, with a summary and exit 0 or 1', async () => {
    const server = servers[2]!;
    const count = 400;
    const args = [CLI, '-', '-t', '3s', '--retries', '0', '-c', '64', '--no-progress'];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(Array.from({ length: count }, (_, n) => server.encodedUrlFor(n)).join('\n') + '\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as FetchResult);
    expect(new Set(rows.map((r) => r.url)).size).toBe(count);
    expect(rows).toHaveLength(count);
    expect([0, 1]).toContain(code);
    expect(stderr).toContain(`${count} URLs`);
    for (const r of rows) if (!r.ok) expect(r.error?.code).toBe('DECODE');
  }, 60_000);
});

describe('a recorded body that fails to decode', () => {
  it('closes its connection, so the host is not left with a paused socket (--warc, perHost 1)', async () => {
    const { createServer } = await import('node:http');
    const { gzipSync } = await import('node:zlib');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    // A gzip header and then junk, in two writes: the decoder fails while the socket is paused for it.
    const bad = Buffer.concat([gzipSync(Buffer.from('hello')).subarray(0, 10), Buffer.alloc(200_000, 0xff)]);
    const server = createServer((req, res) => {
      if (req.url !== '/bad') return void res.end('ok');
      res.writeHead(404, { 'content-encoding': 'gzip', 'content-length': bad.length });
      res.write(bad.subarray(0, 100_000));
      setTimeout(() => res.end(bad.subarray(100_000)), 100);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = await mkdtemp(join(tmpdir(), 'volley-warc-pause-'));
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const rows = await fetchAll([`${base}/bad`, `${base}/ok`], { perHost: 1, concurrency: 1, timeoutMs: 5_000, retries: 0, warc: join(dir, 'out.warc') });
      expect(rows.map((r) => r.status)).toEqual([404, 200]);
      expect(rows[1]!.ok).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
