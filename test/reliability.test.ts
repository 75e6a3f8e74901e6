import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { fetchAll } from '../src/index.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';

// Issue 10, "A run must never die": each bug found against real servers, pinned by a test that failed before.

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await createTestServer({
    // Declares 5,000 bytes and sends them: the declared size alone is over a 1,000-byte cap.
    '/declared-big': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': 5000 });
      res.end('x'.repeat(5000));
    },
    '/bad-br': (_req, res) => {
      const good = brotliCompressSync(Buffer.from(htmlPage('br')));
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'br' });
      res.end(Buffer.concat([Buffer.from('garbage, not brotli'), good]));
    },
    '/echo-encoding': (req, res) => {
      const asked = req.headers['accept-encoding'] ?? '';
      const page = htmlPage(`asked ${asked}`);
      if (/\bgzip\b/.test(asked)) {
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
        res.end(gzipSync(page));
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(page);
      }
    },
    '/unknown-coding': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'x-squash', 'content-length': 2000 });
      res.end('z'.repeat(2000));
    },
    '/headers-then-hang': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<title>never ends');
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'volley-reliability-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], { stdout = 'pipe', env = {} }: { stdout?: 'pipe' | number; env?: Record<string, string> } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', stdout, 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
}

const STACK = /\n\s+at /;

describe('a response whose declared size is over the cap', () => {
  it('fails that URL with TOO_LARGE and keeps every other row (it crashed the process)', async () => {
    const urls = [1, 2, 3].map((i) => `${server.url}/declared-big?i=${i}`);
    const { code, stdout, stderr } = await run([...urls, `${server.url}/ok`, '--max-bytes', '1000']);
    expect(stderr).not.toMatch(STACK);
    expect(code).toBe(1);
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(4);
    for (const url of urls) {
      expect(rows.find((r) => r.url === url)).toMatchObject({ ok: false, status: 200, error: { code: 'TOO_LARGE' }, finalUrl: url });
    }
    expect(stderr).toContain('4 URLs');
  });
});

describe('write failures are never silent', () => {
  // The failure used to reach the file stream after the run had chosen its exit code: 3 runs in 6 said nothing.
  it.each([
    ['-o /dev/full', ['-o', '/dev/full']],
    ['stdout redirected to /dev/full', []],
  ])('%s: exit 74 and a message, 20 runs out of 20', async (_name, extra) => {
    const runs = async () => {
      const outcomes: { code: number | null; stderr: string }[] = [];
      for (let batch = 0; batch < 4; batch++) {
        outcomes.push(
          ...(await Promise.all(
            Array.from({ length: 5 }, async () => {
              const fd = extra.length === 0 ? (await import('node:fs')).openSync('/dev/full', 'w') : undefined;
              try {
                return await run([`${server.url}/ok`, '-q', '--no-extract', ...extra], { stdout: fd ?? 'pipe' });
              } finally {
                if (fd !== undefined) (await import('node:fs')).closeSync(fd);
              }
            }),
          )),
        );
      }
      return outcomes;
    };
    const outcomes = await runs();
    for (const { code, stderr } of outcomes) {
      expect(code).toBe(74);
      expect(stderr).toMatch(/cannot write the output to (\/dev\/full|stdout): .*ENOSPC/);
      expect(stderr).not.toMatch(STACK);
    }
  }, 120_000);
});

describe('a bug in volley itself', () => {
  it('flushes every finished row, prints the summary and exits 70 with the stack', async () => {
    const out = join(dir, 'internal.jsonl');
    const urls = Array.from({ length: 6 }, (_, i) => `${server.url}/ok?i=${i}`);
    const { code, stderr } = await run([...urls, '-o', out], { env: { VOLLEY_TEST_INTERNAL_ERROR: '2' } });
    expect(code).toBe(70);
    expect(stderr).toContain('internal error');
    expect(stderr).toContain('deliberate internal error');
    expect(stderr).toMatch(STACK);
    expect(stderr).toContain('stopped by an internal error');
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // One whole row per URL taken: the finished ones, and the rest as CANCELLED.
    expect(new Set(rows.map((r) => r.url))).toEqual(new Set(urls));
  });
});

describe('finalUrl names the last response received', () => {
  it('after a redirect to an unsupported scheme', async () => {
    const url = `${server.url}/to-ftp`;
    const [r] = await fetchAll([url], { extract: false });
    expect(r).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED_SCHEME' }, finalUrl: url, redirects: 0 });
    expect(r?.status).not.toBeNull();
  });

  it('after a timeout that came once the headers had arrived', async () => {
    const url = `${server.url}/headers-then-hang`;
    const [r] = await fetchAll([url], { timeoutMs: 300, retries: 0, extract: false });
    expect(r).toMatchObject({ ok: false, status: 200, error: { code: 'TIMEOUT' }, finalUrl: url });
  });

  it('stays null when no response arrived', async () => {
    const [r] = await fetchAll([`${server.url}/hang`], { timeoutMs: 200, retries: 0, extract: false });
    expect(r).toMatchObject({ ok: false, status: null, error: { code: 'TIMEOUT' }, finalUrl: null });
  });
});

describe('content codings', () => {
  it('asks for gzip, deflate and br by default, and decodes what comes back', async () => {
    const [r] = await fetchAll([`${server.url}/echo-encoding`]);
    expect(r).toMatchObject({ ok: true, title: 'asked gzip, deflate, br' });
  });

  it("lets the user's Accept-Encoding replace ours", async () => {
    const [r] = await fetchAll([`${server.url}/echo-encoding`], { headers: { 'Accept-Encoding': 'identity' } });
    expect(r).toMatchObject({ ok: true, title: 'asked identity' });
  });

  it('fails a corrupt br body with DECODE, once: bad data is not retried', async () => {
    const [r] = await fetchAll([`${server.url}/bad-br`], { retries: 2, retryBaseMs: 1 });
    expect(r).toMatchObject({ ok: false, status: 200, error: { code: 'DECODE' }, attempts: 1 });
    expect(server.hits('/bad-br')).toBe(1);
  });

  it('fails an unknown Content-Encoding with DECODE and leaves the connection usable', async () => {
    const results = await fetchAll([`${server.url}/unknown-coding`, `${server.url}/ok?t=after`], { concurrency: 1, retries: 0 });
    expect(results[0]).toMatchObject({ ok: false, error: { code: 'DECODE' } });
    expect(results[1]).toMatchObject({ ok: true, title: 'after' });
  });
});

describe('credentials never reach a message', () => {
  it('redacts user:password from URLs in error messages', async () => {
    const secretTarget = `ftp://user:s3cret@127.0.0.1/file`;
    const [r] = await fetchAll([`${server.url}/to?s=302&u=${encodeURIComponent(secretTarget)}`], { extract: false });
    expect(r?.error?.code).toBe('UNSUPPORTED_SCHEME');
    expect(r?.error?.message).not.toContain('s3cret');
    expect(r?.error?.message).toContain('127.0.0.1/file');
  });
});

describe('the library with a bug in the loop', () => {
  it('rejects fetchAll with the original error instead of reporting it as a failed URL', async () => {
    const boom = new Error('onProgress broke');
    let calls = 0;
    const urls = Array.from({ length: 5 }, (_, i) => `${server.url}/ok?bug=${i}`);
    await expect(
      fetchAll(urls, {
        concurrency: 1,
        onProgress: () => {
          if (++calls === 2) throw boom;
        },
      }),
    ).rejects.toBe(boom);
  });
});
