// Issue 20: the crawl. A generated site with a known link graph (fixtures/crawl-site.ts); the breadth-first answer
// is computed from the same graph, and the rows must match it exactly, whatever order the responses come back in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAll, type FetchResult } from '../src/index.js';
import { createCrawlSite, type CrawlSite } from './fixtures/crawl-site.js';

let site: CrawlSite;
beforeAll(async () => {
  site = await createCrawlSite();
});
afterAll(() => site.close());

const depths = (rows: FetchResult[]): Map<string, number> => new Map(rows.map((r) => [r.url, r.depth as number]));
const pageRequests = (): string[] => site.requests.filter((r) => r.path !== '/robots.txt').map((r) => `${r.host} ${r.path}`);

describe('crawl under a seeded fuzz', () => {
  it('matches the breadth-first answer on random sites, whatever order the responses come back in', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const fuzzSite = await createCrawlSite(seed * 7919, -25);
      try {
        for (const depth of [2, 4]) {
          fuzzSite.requests.length = 0;
          const rows = await fetchAll([`${fuzzSite.url}/`], { follow: { depth }, concurrency: 1 + (seed % 4) * 5 });
          expect(depths(rows), `seed ${seed} depth ${depth}`).toEqual(fuzzSite.reference({ depth, robots: true }));
          const asked = fuzzSite.requests.filter((r) => r.path !== '/robots.txt').map((r) => r.path);
          expect(asked.length, `seed ${seed}: a URL requested twice`).toBe(new Set(asked).size);
        }
      } finally {
        await fuzzSite.close();
      }
    }
  }, 120_000);
});

describe('crawl (follow)', () => {
  it('fetches exactly the pages within N links of the seed, each once, each row with its shortest depth', async () => {
    site.requests.length = 0;
    const rows = await fetchAll([`${site.url}/`], { follow: { depth: 3 }, concurrency: 8 });
    const want = site.reference({ depth: 3, robots: true });
    expect(depths(rows)).toEqual(want);
    // Every URL requested at most once: redirect hops and spellings of one URL (`../p/3#x`, `3`, `/p/3`) included.
    const seen = pageRequests();
    expect(seen.length).toBe(new Set(seen).size);
    // robots.txt obeyed by default in a crawl: the disallowed page has its row and was never requested.
    const secret = rows.find((r) => r.url.endsWith('/private/secret'));
    expect(secret?.error?.code).toBe('ROBOTS_DISALLOWED');
    expect(seen.some((p) => p.endsWith('/private/secret'))).toBe(false);
    // The nofollow page is fetched, its links are not followed.
    expect(rows.some((r) => r.url.endsWith('/nofollow') && r.ok)).toBe(true);
    expect(rows.some((r) => r.url.endsWith('/only-from-nofollow'))).toBe(false);
  });

  it('gives each row its referrer, and sends Referer as a browser would', async () => {
    site.requests.length = 0;
    const rows = await fetchAll([`${site.url}/`], { follow: { depth: 1 } });
    const seed = rows.find((r) => r.url === `${site.url}/`)!;
    expect(seed).toMatchObject({ depth: 0, referrer: null });
    const p0 = rows.find((r) => r.url === `${site.url}/p/0`)!;
    expect(p0).toMatchObject({ depth: 1, referrer: `${site.url}/` });
    expect(site.requests.find((r) => r.path === '/p/0')?.referer).toBe(`${site.url}/`);
    // Not asked for: the links the crawl used are not in the rows.
    expect(p0.links).toBeUndefined();
  });

  it('lands a redirect on the depth of the URL that redirected, and does not follow one onto a URL already requested', async () => {
    const rows = await fetchAll([`${site.url}/`], { follow: { depth: 2 } });
    const hop = rows.find((r) => r.url === `${site.url}/hop1`)!;
    expect(hop).toMatchObject({ ok: true, depth: 1, finalUrl: `${site.url}/landing`, redirects: 2 });
    // /landing's link is followed at depth 2 (1 + 1), not 3.
    expect(rows.find((r) => r.url === `${site.url}/p/2`)?.depth).toBeLessThanOrEqual(2);
    const dup = rows.find((r) => r.url === `${site.url}/to-p0`)!;
    expect(dup).toMatchObject({ ok: true, status: 301, duplicateOf: `${site.url}/p/0` });
    expect(rows.filter((r) => r.url === `${site.url}/p/0`)).toHaveLength(1);
  });

  it('depth 0 fetches the seeds only; seeds given twice count once', async () => {
    const rows = await fetchAll([`${site.url}/`, `${site.url}/#again`, `${site.url}/p/5`], { follow: { depth: 0 } });
    expect(rows.map((r) => r.url).sort()).toEqual([`${site.url}/`, `${site.url}/p/5`]);
  });

  it('keeps to the seed host by default, and follows another host with scope all', async () => {
    const host = await fetchAll([`${site.url}/`], { follow: { depth: 1 } });
    expect(host.some((r) => r.url.startsWith(site.otherUrl))).toBe(false);
    const all = await fetchAll([`${site.url}/`], { follow: { depth: 1, scope: 'all' } });
    expect(all.some((r) => r.url === `${site.otherUrl}/p/1` && r.ok)).toBe(true);
    // mailto: and other schemes are never links to follow.
    expect(all.some((r) => r.url.startsWith('mailto:'))).toBe(false);
  });

  it('stops an infinite calendar at the depth, and filters with include and exclude', async () => {
    const rows = await fetchAll([`${site.url}/`], { follow: { depth: 4 } });
    expect(rows.filter((r) => r.url.includes('/cal?')).map((r) => r.depth).sort()).toEqual([1, 2, 3, 4]);
    const excluded = await fetchAll([`${site.url}/`], { follow: { depth: 4, exclude: [/\/cal\?/] } });
    expect(excluded.some((r) => r.url.includes('/cal'))).toBe(false);
    const included = await fetchAll([`${site.url}/`], { follow: { depth: 4, include: ['/list\\?'] } });
    expect(included.map((r) => r.url).sort()).toEqual([`${site.url}/`, ...[1, 2, 3, 4].map((n) => `${site.url}/list?page=${n}`)].sort());
  });

  it('follows only the links the follow selector picks (pagination)', async () => {
    const rows = await fetchAll([`${site.url}/list?page=1`], { follow: { depth: 10, select: 'a[rel~=next]' } });
    expect(rows.map((r) => [r.url, r.depth])).toEqual([1, 2, 3, 4].map((n) => [`${site.url}/list?page=${n}`, n - 1]));
  });

  it('with respectRobots false, follows a nofollow page and fetches what robots.txt disallows', async () => {
    const rows = await fetchAll([`${site.url}/`], { follow: { depth: 2 }, respectRobots: false });
    expect(rows.some((r) => r.url.endsWith('/only-from-nofollow'))).toBe(true);
    expect(rows.find((r) => r.url.endsWith('/private/secret'))?.ok).toBe(true);
  });

  it('sends an empty query as written (/p/3? is not /p/3)', async () => {
    site.requests.length = 0;
    await fetchAll([`${site.url}/p/3?`, `${site.url}/p/3`], { follow: { depth: 0 } });
    expect(site.requests.map((r) => r.path).sort()).toEqual(['/p/3', '/p/3?', '/robots.txt']);
  });

  it('asks filter about each link in scope (the CLI shards a crawl with it)', async () => {
    const asked: string[] = [];
    const rows = await fetchAll([`${site.url}/`], { follow: { depth: 2, filter: (url) => (asked.push(url.pathname), !url.pathname.startsWith('/p/')) } });
    expect(asked.length).toBeGreaterThan(0);
    expect(rows.some((r) => new URL(r.url).pathname.startsWith('/p/'))).toBe(false);
    expect(rows.some((r) => r.url.includes('/list?page=2'))).toBe(true);
  });

  it('requests no more than maxPages pages', async () => {
    site.requests.length = 0;
    const rows = await fetchAll([`${site.url}/`], { follow: { depth: 5, maxPages: 7 } });
    expect(rows).toHaveLength(7);
    expect(pageRequests().filter((p) => !/\/hop2|\/landing/.test(p)).length).toBeLessThanOrEqual(7);
  });

  it('gives an invalid seed its error row and crawls the rest', async () => {
    const rows = await fetchAll(['not a url', `${site.url}/p/1`], { follow: { depth: 0 } });
    expect(rows.map((r) => (r.ok ? 'ok' : r.error?.code))).toEqual(['INVALID_URL', 'ok']);
  });

  it('takes seeds from sitemaps: an index with a .gz child, a text sitemap, robots.txt; rows carry lastmod', async () => {
    const rows = await fetchAll([], { sitemaps: [`${site.url}/sitemap-index.xml`, `${site.url}/sitemap.txt`] });
    const byUrl = new Map(rows.map((r) => [r.url, r]));
    expect([...byUrl.keys()].sort()).toEqual([`${site.url}/p/10`, `${site.url}/p/11`, `${site.url}/p/12?a=1&b=2`, `${site.url}/p/20`, `${site.url}/p/30`, `${site.url}/p/31`].sort());
    expect(byUrl.get(`${site.url}/p/10`)).toMatchObject({ ok: true, depth: 0, lastmod: '2026-11-01' });
    expect(byUrl.get(`${site.url}/p/12?a=1&b=2`)?.lastmod).toBeNull();
    // The other host's entry is skipped without --scope all, and kept with it.
    const all = await fetchAll([], { sitemaps: [`${site.url}/robots.txt`], follow: { depth: 0, scope: 'all' } });
    expect(all.some((r) => r.url === `${site.otherUrl}/p/13`)).toBe(true);
  });

  it('keeps only entries newer than newerThan (and those without a lastmod)', async () => {
    const rows = await fetchAll([], { sitemaps: [`${site.url}/sitemap-index.xml`], newerThan: '2026-12-01T12:00:00Z' });
    expect(rows.map((r) => r.url).sort()).toEqual([`${site.url}/p/11`, `${site.url}/p/12?a=1&b=2`, `${site.url}/p/20`].sort());
  });

  it('gives a broken sitemap a row of its own and keeps the entries read before the break; a crawl follows from sitemap seeds', async () => {
    const rows = await fetchAll([], { sitemaps: [`${site.url}/broken.xml`, `${site.url}/missing.xml`], follow: { depth: 1 } });
    const broken = rows.find((r) => r.url === `${site.url}/broken.xml`)!;
    expect(broken).toMatchObject({ ok: false, sitemap: true, error: { code: 'PARSE' } });
    expect(rows.find((r) => r.url === `${site.url}/missing.xml`)).toMatchObject({ ok: false, sitemap: true, error: { code: 'HTTP_STATUS' } });
    expect(rows.find((r) => r.url === `${site.url}/p/40`)).toMatchObject({ ok: true, depth: 0 });
    // /p/40's links are followed at depth 1.
    expect(rows.some((r) => r.depth === 1)).toBe(true);
  });

  it('says through onWarning how many sitemap entries it skipped', async () => {
    const warnings: string[] = [];
    await fetchAll([], { sitemaps: [`${site.url}/sitemap-index.xml`], newerThan: '2026-12-01T12:00:00Z', onWarning: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/1 sitemap entry on another host than their sitemap skipped/);
    expect(warnings.join('\n')).toMatch(/1 sitemap entry not newer than --newer-than skipped/);
  });

  it('cancels mid-crawl on abort: every URL taken gets its row, CANCELLED if unfinished, and fetchAll resolves', async () => {
    const controller = new AbortController();
    let seen = 0;
    const rows = await fetchAll([`${site.url}/`], {
      follow: { depth: 5 },
      concurrency: 2,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 5 && seen++ === 0) controller.abort();
      },
    });
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.length).toBeLessThan(site.reference({ depth: 5, robots: true }).size);
    expect(rows.every((r) => r.ok || r.error !== null)).toBe(true);
  });

  it('keeps what it fetched in a crawl: --save, --warc, --body and -s work on followed pages', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'volley-crawl-keep-'));
    try {
      const rows = await fetchAll([`${site.url}/list?page=1`], {
        follow: { depth: 2, include: ['/list'] },
        save: { dir: join(dir, 'save') },
        warc: join(dir, 'crawl.warc'),
        body: 'text',
        extract: { select: { h: 'title' } },
      });
      expect(rows.map((r) => r.url).sort()).toEqual([1, 2, 3].map((n) => `${site.url}/list?page=${n}`));
      const { createHash } = await import('node:crypto');
      // A port is written after '_' in a file name (keep/save-name.ts), as keep-save.test.ts pins.
      const host = new URL(site.url).host.replace(':', '_');
      for (const r of rows) {
        const page = new URL(r.url).searchParams.get('page');
        // The default name template, and the file holds exactly the body the row carries.
        expect(r.savedAs).toBe(`${host}/list@page=${page}.html`);
        const saved = await readFile(join(dir, 'save', r.savedAs!), 'utf8');
        expect(saved).toBe(r.body);
        expect(r.sha256).toBe(createHash('sha256').update(saved).digest('hex'));
        expect(r.body).toContain(`<title>/list?page=${page}</title>`);
        expect(r.data?.h).toBe(`/list?page=${page}`);
      }
      const warc = await readFile(join(dir, 'crawl.warc'), 'utf8');
      for (const r of rows) expect(warc).toContain(`WARC-Target-URI: ${r.url}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a seed that an earlier seed links to is still a seed (depth 0), however late it comes', async () => {
    async function* seeds(): AsyncGenerator<string> {
      yield `${site.url}/`;
      // Late enough that `/`'s links (/p/0 among them) are queued first.
      await new Promise((r) => setTimeout(r, 300));
      yield `${site.url}/p/0`;
    }
    site.requests.length = 0;
    const rows = await fetchAll(seeds(), { follow: { depth: 1 } });
    expect(rows.find((r) => r.url === `${site.url}/p/0`)).toMatchObject({ depth: 0, referrer: null });
    expect(rows.filter((r) => r.url === `${site.url}/p/0`)).toHaveLength(1);
    // /p/0's own links are at depth 1.
    const p0links = site.reference({ depth: 1, robots: true });
    expect(rows.some((r) => r.depth === 1 && r.referrer === `${site.url}/p/0`)).toBe(true);
    expect(p0links.size).toBeGreaterThan(0);
  });

  it('on resume, a redirect target is requested again unless the page that redirected has its row; maxPages counts both runs', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'volley-journal-'));
    try {
      // What a run killed while fetching /landing (after /hop1 claimed /hop2 and /landing) leaves behind.
      const path = join(dir, 'j.crawl');
      const lines = [
        { u: `${site.url}/hop1`, d: 0, r: null, s: `${site.url}/hop1` },
        { c: `${site.url}/hop2`, by: `${site.url}/hop1` },
        { c: `${site.url}/landing`, by: `${site.url}/hop1` },
      ];
      await writeFile(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const rows = await fetchAll([], { follow: { depth: 1, journal: { path, done: () => false } } });
      expect(rows.find((r) => r.url === `${site.url}/hop1`)).toMatchObject({ ok: true, finalUrl: `${site.url}/landing` });
      expect(rows.find((r) => r.url === `${site.url}/hop1`)?.duplicateOf).toBeUndefined();
      // maxPages: two pages done in the first run count; one more may be requested.
      const path2 = join(dir, 'j2.crawl');
      const done = new Set([`${site.url}/`, `${site.url}/p/0`]);
      await writeFile(path2, [
        { u: `${site.url}/`, d: 0, r: null, s: `${site.url}/` },
        { u: `${site.url}/p/0`, d: 1, r: `${site.url}/`, s: `${site.url}/` },
        { u: `${site.url}/nofollow`, d: 1, r: `${site.url}/`, s: `${site.url}/` },
        { u: `${site.url}/cal?d=0`, d: 1, r: `${site.url}/`, s: `${site.url}/` },
      ].map((l) => JSON.stringify(l)).join('\n') + '\n');
      const resumed = await fetchAll([], { follow: { depth: 1, maxPages: 3, journal: { path: path2, done: (u) => done.has(u) } } });
      expect(resumed).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad follow options, naming them', async () => {
    await expect(fetchAll([], { follow: { depth: -1 } })).rejects.toThrow(/follow\.depth/);
    await expect(fetchAll([], { follow: { scope: 'planet' as never } })).rejects.toThrow(/follow\.scope/);
    await expect(fetchAll([], { follow: { include: ['('] } })).rejects.toThrow(/follow\.include/);
  });
});
