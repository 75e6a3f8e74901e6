// Issue 20: a crawl killed (SIGKILL, SIGINT) and run again with --resume ends with the same pages and depths as one
// uninterrupted run, and fetches no page twice but those in flight at the kill (the state file: frontier/journal.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FetchResult } from '../src/index.js';
import { createCrawlSite, type CrawlSite } from './fixtures/crawl-site.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const CONCURRENCY = 3;
let site: CrawlSite;
let dir: string;
beforeAll(async () => {
  site = await createCrawlSite(20, 15);
  dir = mkdtempSync(join(tmpdir(), 'volley-crawl-resume-'));
});
afterAll(async () => {
  await site.close();
  rmSync(dir, { recursive: true, force: true });
});

const rowsOf = (file: string): FetchResult[] =>
  (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter((l) => l.trim() !== '').flatMap((l) => {
    try {
      return [JSON.parse(l) as FetchResult];
    } catch {
      return [];
    }
  });

/** Runs the crawl CLI; with `killAfter`, sends `signal` once the output has that many rows. */
function crawl(out: string, extra: string[], kill?: { after: number; signal: NodeJS.Signals }): Promise<number | null> {
  const child = spawn(process.execPath, [CLI, `${site.url}/`, '--follow', '--depth', '4', '-c', String(CONCURRENCY), '-o', out, '-q', ...extra], { stdio: 'ignore' });
  let timer: NodeJS.Timeout | null = null;
  if (kill) {
    timer = setInterval(() => {
      if (rowsOf(out).length >= kill.after) {
        child.kill(kill.signal);
        clearInterval(timer!);
      }
    }, 5);
  }
  return new Promise((resolve) => child.on('close', (code) => (timer && clearInterval(timer), resolve(code))));
}

const FINAL = (r: FetchResult): boolean => !['CANCELLED', 'HOST_SKIPPED', 'INTERNAL', 'WRITE'].includes(r.error?.code ?? '');

describe('sitemap --resume', () => {
  it('does not fetch again the entries whose rows are final (the journal is kept for sitemap runs too)', async () => {
    const out = join(dir, 'sitemap.jsonl');
    const run = (extra: string[]) =>
      new Promise<number | null>((resolve) =>
        spawn(process.execPath, [CLI, '--sitemap', `${site.url}/sitemap-index.xml`, '-o', out, '-q', ...extra], { stdio: 'ignore' }).on('close', resolve),
      );
    site.requests.length = 0;
    expect(await run([])).toBe(0);
    const first = rowsOf(out);
    expect(first.map((r) => r.url).sort()).toEqual([`${site.url}/p/10`, `${site.url}/p/11`, `${site.url}/p/12?a=1&b=2`, `${site.url}/p/20`].sort());
    expect(first.every((r) => r.lastmod !== undefined)).toBe(true);
    site.requests.length = 0;
    expect(await run(['--resume'])).toBe(0);
    // Only the sitemaps were read again; no page.
    expect(site.requests.map((r) => r.path).filter((p) => p.startsWith('/p/'))).toEqual([]);
    expect(rowsOf(out)).toHaveLength(first.length);
  });
});

describe('sitemaps through the CLI', () => {
  it('gives a broken sitemap its row (sitemap: true), keeps the entries before the break, exits 1', async () => {
    const out = join(dir, 'broken.jsonl');
    const code = await new Promise<number | null>((resolve) =>
      spawn(process.execPath, [CLI, '--sitemap', `${site.url}/broken.xml`, '-o', out, '-q'], { stdio: 'ignore' }).on('close', resolve),
    );
    expect(code).toBe(1);
    const rows = rowsOf(out);
    expect(rows.find((r) => r.url === `${site.url}/broken.xml`)).toMatchObject({ ok: false, sitemap: true, error: { code: 'PARSE' } });
    expect(rows.filter((r) => r.ok).map((r) => r.url).sort()).toEqual([`${site.url}/p/40`, `${site.url}/p/41`]);
  });
});

describe('crawl --shard', () => {
  it("keeps a seed's whole crawl on the seed's shard, links to other hosts included", async () => {
    const { shardOf } = await import('../src/cli/shard.js');
    const mine = shardOf(`${site.url}/`, 3);
    const run = (k: number, out: string) =>
      new Promise<number | null>((resolve) =>
        spawn(process.execPath, [CLI, `${site.url}/`, '--follow', '--depth', '1', '--scope', 'all', '--shard', `${k}/3`, '-o', out, '-q'], { stdio: 'ignore' }).on('close', resolve),
      );
    const out = join(dir, 'shard-mine.jsonl');
    await run(mine, out);
    const rows = rowsOf(out);
    expect(rows.some((r) => r.url === `${site.otherUrl}/p/1` && r.ok)).toBe(true);
    expect(rows.length).toBe(site.reference({ depth: 1, robots: true }).size + 1);
    const other = join(dir, 'shard-other.jsonl');
    await run((mine + 1) % 3, other);
    expect(rowsOf(other)).toEqual([]);
  });
});

describe('crawl --resume', () => {
  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    it(`after ${signal}, ends with the pages and depths of one uninterrupted run, none fetched twice but those in flight`, async () => {
      const out = join(dir, `${signal}.jsonl`);
      site.requests.length = 0;
      await crawl(out, [], { after: 12, signal });
      const first = rowsOf(out).filter(FINAL);
      expect(first.length).toBeGreaterThanOrEqual(12);
      const want = site.reference({ depth: 4, robots: true });
      expect(first.length).toBeLessThan(want.size);
      const code = await crawl(out, ['--resume']);
      expect([0, 1]).toContain(code);
      const final = rowsOf(out).filter(FINAL);
      expect(new Map(final.map((r) => [r.url, r.depth]))).toEqual(want);
      // One final row per URL.
      expect(final.length).toBe(want.size);
      const pages = site.requests.filter((r) => r.path !== '/robots.txt').map((r) => r.path);
      const twice = pages.length - new Set(pages).size;
      // In flight at the kill, or finished with the row not yet written: at most the slots and the read-ahead demand.
      expect(twice).toBeLessThanOrEqual(2 * CONCURRENCY);
    });
  }
});
