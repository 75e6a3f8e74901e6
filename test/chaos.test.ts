// Issue 10's promise, tested: whatever a server sends, volley gives exactly one row per URL with a documented code,
// and neither the library nor the CLI dies. The fault server picks a behaviour per URL from a fixed seed, so a
// failure here replays with `npm run chaos -- --seed 20240610 --count 2000`, or alone as `/b/<behaviour>`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, fetchAll } from '../src/index.js';
import { BEHAVIOURS, createChaosServer, type ChaosServer } from './fixtures/chaos-server.mjs';
import { liveHeap } from './fixtures/heap.js';

const SEED = 20240610;
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const DOCUMENTED: ReadonlySet<string> = new Set(ERROR_CODES);

let server: ChaosServer;
let dir: string;
beforeAll(async () => {
  server = await createChaosServer({ seed: SEED });
  dir = mkdtempSync(join(tmpdir(), 'volley-chaos-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const chaosUrls = (count: number): string[] => Array.from({ length: count }, (_, n) => server.urlFor(n));

/** URLs with no row and URLs with more than one, with the first few of each: short enough to read when it fails. */
function accounting(urls: string[], rows: { url: string }[]): { missing: number; repeated: number; examples: string[] } {
  const count = new Map<string, number>();
  for (const r of rows) count.set(r.url, (count.get(r.url) ?? 0) + 1);
  const missing = urls.filter((u) => !count.has(u));
  const given = new Set(urls);
  const repeated = [...count].filter(([u, n]) => n > 1 || !given.has(u)).map(([u]) => u);
  const examples = [...missing.slice(0, 3), ...repeated.slice(0, 3)].map((u) => `${u} (${server.behaviourOf(Number(u.split('/').pop()))})`);
  return { missing: missing.length, repeated: repeated.length, examples };
}

/** Rows whose code is not one of ERROR_CODES, or whose `ok` and `error` disagree, as `url: code` lines. */
function undocumented(rows: { url: string; ok: boolean; error: { code: string } | null }[]): string[] {
  return rows
    .filter((r) => (r.ok ? r.error !== null : !r.error || !DOCUMENTED.has(r.error.code)))
    .map((r) => `${r.url} (${server.behaviourOf(Number(r.url.split('/').pop()))}): ok=${r.ok} code=${r.error?.code}`);
}

describe('chaos: a server sending anything at all', () => {

  it('mixes every behaviour of the fault server under the fixed seed', () => {
    const mix = new Set(chaosUrls(2000).map((_, n) => server.behaviourOf(n)));
    expect(BEHAVIOURS.length).toBeGreaterThanOrEqual(20);
    expect([...mix].sort()).toEqual([...BEHAVIOURS].sort());
  });

  it('gives 2,000 URLs one result each with a documented code, and nothing escapes to the process', async () => {
    // Each distinct escape once, with its count and the first frame in volley's own code.
    const escapes = new Map<string, number>();
    const onEscape = (kind: string) => (err: unknown) => {
      const e = err as { name?: string; code?: string; message?: string; stack?: string } | null;
      const frame = e?.stack?.split('\n').find((line) => /[/\\](src|dist)[/\\]/.test(line))?.trim() ?? '';
      const key = `${kind}: ${e?.name ?? typeof err} ${e?.code ?? ''} ${e?.message ?? String(err)} ${frame}`;
      escapes.set(key, (escapes.get(key) ?? 0) + 1);
    };
    const onRejection = onEscape('unhandledRejection');
    const onException = onEscape('uncaughtException');
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    try {
      const urls = chaosUrls(2000);
      const heapBefore = liveHeap();
      // The breaker off: one host serves every behaviour, and its stalls would soon have the whole host skipped.
      const results = await fetchAll(urls, { concurrency: 64, perHost: 64, maxBytes: 1000, timeoutMs: 400, retries: 1, retryBaseMs: 5, maxHostErrors: 0 });
      // An 'error' emitted on a stream nobody listens to arrives a tick or more after its result.
      await new Promise((resolve) => setTimeout(resolve, 100));

      expect.soft([...escapes].map(([key, n]) => `${n} × ${key}`)).toEqual([]);
      // fetchAll puts results back in input order: a lost row is a hole, a duplicate a wrong URL in its place.
      expect.soft(accounting(urls, results.filter(Boolean))).toEqual({ missing: 0, repeated: 0, examples: [] });
      expect.soft(results.every((r, i) => r.url === urls[i])).toBe(true);
      expect.soft(undocumented(results)).toEqual([]);
      // Bounded: 2,000 small rows are well under a megabyte; the rest would be sockets, buffers or timers kept.
      expect(liveHeap() - heapBefore).toBeLessThan(32 * 1024 * 1024);
    } finally {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    }
  }, 120_000);

  it('runs the CLI over 300 chaos URLs to an exit code of 0 or 1, one JSON line each, no stack on stderr', async () => {
    const urls = chaosUrls(300);
    const list = join(dir, 'chaos.txt');
    const out = join(dir, 'chaos.jsonl');
    writeFileSync(list, `${urls.join('\n')}\n`);
    const args = [CLI, list, '--max-bytes', '1000', '-t', '1s', '-q', '-o', out, '-c', '64', '--per-host', '64', '--retries', '0', '--threads', '2', '--max-host-errors', '0'];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, NO_COLOR: '1', HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));

    // A crash also exits 1 (Node's code for an uncaught exception): the stack and the missing rows tell it apart.
    expect.soft(stderr).not.toMatch(/\n\s+at /);
    expect.soft([0, 1]).toContain(code);
    const lines = (existsSync(out) ? readFileSync(out, 'utf8') : '').split('\n').filter((l) => l !== '');
    const rows = lines.map((l) => JSON.parse(l) as { url: string; ok: boolean; error: { code: string } | null });
    expect.soft(accounting(urls, rows)).toEqual({ missing: 0, repeated: 0, examples: [] });
    expect(undocumented(rows)).toEqual([]);
  }, 120_000);
});
