import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGzip, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../src/fetch/dispatcher.js';
import type { Dispatcher } from '../src/fetch/undici.js';
import { MAX_SITEMAP_NESTING, sitemapSeeds, type SitemapSeed, type SitemapSeedOptions } from '../src/crawl/sitemap-seeds.js';
import { createTestServer, type TestServer } from './fixtures/server.js';
import { rng as random } from './fixtures/rng.mjs';

const NS = 'http://www.sitemaps.org/schemas/sitemap/0.9';
const urlset = (entries: { loc: string; lastmod?: string }[]): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="${NS}">\n` +
  entries.map((e) => `<url><loc>${e.loc}</loc>${e.lastmod ? `<lastmod>${e.lastmod}</lastmod>` : ''}</url>\n`).join('') +
  '</urlset>\n';
const sitemapindex = (locs: string[]): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="${NS}">\n${locs.map((l) => `<sitemap><loc>${l}</loc></sitemap>\n`).join('')}</sitemapindex>\n`;

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;
const send = (body: string | Buffer, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
};

/** Bodies of the fuzz cases, by their `i` query parameter. */
const fuzzBodies = new Map<string, Buffer>();


/** A body cut, bit-flipped, extended with junk, or several of these. */
function mangle(bytes: Buffer, next: () => number): Buffer {
  let out = Buffer.from(bytes);
  const pick = Math.floor(next() * 4);
  if (pick === 0 || pick === 3) out = out.subarray(0, Math.floor(next() * out.length));
  if (pick === 1 || pick === 3) for (let n = 1 + Math.floor(next() * 4); n > 0 && out.length > 0; n--) out[Math.floor(next() * out.length)]! ^= 1 << Math.floor(next() * 8);
  if (pick === 2) out = Buffer.concat([out, Buffer.from(Array.from({ length: 1 + Math.floor(next() * 64) }, () => Math.floor(next() * 256)))]);
  return out;
}

let server: TestServer;
let base: string;
/** The same server under another host name: entries there are on "another host". */
let other: string;
let dispatcher: Dispatcher;
/** Resolves with the stalled response once the server has seen it closed. */
let stallClosed: Promise<void>;
let markStallClosed: () => void;
let gzipStallClosed: Promise<void>;
let markGzipStallClosed: () => void;

beforeAll(async () => {
  const routes: Record<string, Handler> = {
    '/index.xml': (req, res, url) => send(sitemapindex([`${base}/a.xml.gz`, `${base}/b.xml`, `${base}/c.xml.gz`]))(req, res, url),
    // A .gz file served as a file: no Content-Encoding, gzip magic bytes in the body.
    '/a.xml.gz': (req, res, url) => send(gzipSync(urlset([{ loc: `${base}/a1` }, { loc: `${base}/a2` }])), { 'content-type': 'application/gzip' })(req, res, url),
    // A sitemap compressed on the wire.
    '/b.xml': (req, res, url) => send(gzipSync(urlset([{ loc: `${base}/b1` }])), { 'content-encoding': 'gzip' })(req, res, url),
    // A .gz file compressed again on the wire: gzip twice.
    '/c.xml.gz': (req, res, url) =>
      send(gzipSync(gzipSync(urlset([{ loc: `${base}/c1` }]))), { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' })(req, res, url),
    '/list.txt': (req, res, url) => send(`${base}/t1\n\n  ${base}/t2  \r\n${base}/t3`, { 'content-type': 'text/plain' })(req, res, url),
    '/robots.txt': (req, res, url) =>
      send(`User-agent: *\nDisallow: /private\n\nSitemap: ${base}/list.txt\nsitemap: /b.xml # relative, resolved\n`, { 'content-type': 'text/plain' })(req, res, url),
    '/broken.xml': (req, res, url) =>
      send(`<?xml version="1.0"?>\n<urlset xmlns="${NS}">\n<url><loc>${base}/k1</loc></url>\n<url><loc>${base}/k2</loc></url>\n<url><loc>${base}/k3</oops></url>\n</urlset>\n`)(req, res, url),
    '/nest': (req, res, url) => {
      const n = Number(url.searchParams.get('n'));
      send(n < 4 ? sitemapindex([`${base}/nest?n=${n + 1}`]) : urlset([{ loc: `${base}/deep` }]))(req, res, url);
    },
    '/loop-a.xml': (req, res, url) => send(sitemapindex([`${base}/loop-b.xml`, `${base}/loop-a.xml`]))(req, res, url),
    '/loop-b.xml': (req, res, url) => send(sitemapindex([`${base}/loop-a.xml`, `${base}/leaf.xml`, `${base}/leaf.xml`]))(req, res, url),
    '/leaf.xml': (req, res, url) => send(urlset([{ loc: `${base}/leaf1` }]))(req, res, url),
    '/hosts.xml': (req, res, url) =>
      send(urlset([{ loc: `${base}/same` }, { loc: `${other}/elsewhere` }, { loc: 'not a url' }, { loc: `${base.replace('http:', 'https:')}/scheme` }]))(req, res, url),
    '/dated.xml': (req, res, url) =>
      send(
        urlset([
          { loc: `${base}/old`, lastmod: '2024-12-31T23:59:59Z' },
          { loc: `${base}/new`, lastmod: '2025-01-01T00:00:01Z' },
          { loc: `${base}/undated` },
          { loc: `${base}/unreadable`, lastmod: 'yesterday' },
          { loc: `${base}/edge`, lastmod: '2025-01-01' },
        ]),
      )(req, res, url),
    '/many.txt': (req, res, url) => send(Array.from({ length: 50_001 }, (_, i) => `${base}/p${i}`).join('\n'), { 'content-type': 'text/plain' })(req, res, url),
    // Redirects to the same server under another host name: "other host" compares with where it landed.
    '/moved.xml': (_req, res) => {
      res.writeHead(301, { location: `${other}/landed.xml`, 'content-length': 0 });
      res.end();
    },
    '/landed.xml': (req, res, url) => send(urlset([{ loc: `${other}/l1` }, { loc: `${base}/l2` }]))(req, res, url),
    '/relative-hop': (_req, res) => {
      res.writeHead(302, { location: 'leaf.xml', 'content-length': 0 });
      res.end();
    },
    '/circle': (_req, res) => {
      res.writeHead(307, { location: '/circle', 'content-length': 0 });
      res.end();
    },
    '/bad-encoding.xml': (req, res, url) => send('this is not gzip at all', { 'content-encoding': 'gzip' })(req, res, url),
    '/bad-file.xml.gz': (req, res, url) => send(gzipSync(urlset([{ loc: `${base}/g1` }])).subarray(0, 30), { 'content-type': 'application/gzip' })(req, res, url),
    '/brotli.xml': (req, res, url) => send('whatever', { 'content-encoding': 'br' })(req, res, url),
    '/broken-index.xml': (req, res, url) => send(`<sitemapindex xmlns="${NS}"><sitemap><loc>${base}/leaf.xml</loc></sitemap><sitemap><loc>`)(req, res, url),
    '/no-loc.xml': (req, res, url) => send(`<urlset xmlns="${NS}"><url><lastmod>2025-01-01</lastmod></url><url><loc>${base}/n1</loc></url><url></url></urlset>`)(req, res, url),
    '/fuzz': (req, res, url) => {
      const body = fuzzBodies.get(url.searchParams.get('i') ?? '') ?? Buffer.alloc(0);
      send(body, url.searchParams.get('ce') === '1' ? { 'content-encoding': 'gzip' } : {})(req, res, url);
    },
    '/stall-gzip.xml': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml', 'content-encoding': 'gzip' });
      const z = createGzip();
      z.pipe(res);
      z.write(`<?xml version="1.0"?>\n<urlset xmlns="${NS}">\n<url><loc>${base}/z1</loc></url>\n`);
      z.flush();
      res.once('close', () => {
        z.destroy();
        markGzipStallClosed();
      });
    },
    '/stall.xml': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.write(`<?xml version="1.0"?>\n<urlset xmlns="${NS}">\n<url><loc>${base}/s1</loc></url>\n<url><loc>${base}/s2</loc></url>\n`);
      res.once('close', () => markStallClosed());
    },
  };
  stallClosed = new Promise((resolve) => (markStallClosed = resolve));
  gzipStallClosed = new Promise((resolve) => (markGzipStallClosed = resolve));
  server = await createTestServer(routes);
  base = server.url;
  other = `http://localhost:${server.port}`;
  dispatcher = createDispatcher({ proxy: undefined, timeoutMs: 10_000 });
});

afterAll(async () => {
  await dispatcher.close();
  await server.close();
});

function options(overrides: Partial<SitemapSeedOptions> = {}): SitemapSeedOptions {
  return {
    dispatcher,
    timeoutMs: 10_000,
    signal: new AbortController().signal,
    headers: { 'user-agent': 'volley-test', 'Accept-Encoding': 'br' },
    maxRedirects: 5,
    allHosts: false,
    newerThan: null,
    ...overrides,
  };
}

async function collect(sitemaps: string[], overrides: Partial<SitemapSeedOptions> = {}): Promise<SitemapSeed[]> {
  const out: SitemapSeed[] = [];
  for await (const item of sitemapSeeds(sitemaps, options(overrides))) out.push(item);
  return out;
}

const seedUrls = (items: SitemapSeed[]): string[] => items.flatMap((i) => (i.kind === 'seed' ? [i.url] : []));
const failures = (items: SitemapSeed[]) => items.filter((i) => i.kind === 'failure');
const warnings = (items: SitemapSeed[]) => items.filter((i) => i.kind === 'warning');

describe('sitemapSeeds', () => {
  it('reads an index depth-first in document order, whichever way its children are gzipped', async () => {
    const items = await collect([`${base}/index.xml`]);
    expect(items).toEqual([
      { kind: 'seed', url: `${base}/a1`, lastmod: null, sitemap: `${base}/a.xml.gz` },
      { kind: 'seed', url: `${base}/a2`, lastmod: null, sitemap: `${base}/a.xml.gz` },
      { kind: 'seed', url: `${base}/b1`, lastmod: null, sitemap: `${base}/b.xml` },
      { kind: 'seed', url: `${base}/c1`, lastmod: null, sitemap: `${base}/c.xml.gz` },
    ]);
  });

  it('asks for gzip only, and sends the caller’s other headers', async () => {
    await collect([`${base}/b.xml`]);
    const request = server.log.requests.findLast((r) => r.path === '/b.xml');
    expect(request?.headers['accept-encoding']).toBe('gzip');
    expect(request?.headers['user-agent']).toBe('volley-test');
  });

  it('reads a text sitemap, one URL a line', async () => {
    expect(seedUrls(await collect([`${base}/list.txt`]))).toEqual([`${base}/t1`, `${base}/t2`, `${base}/t3`]);
  });

  it('reads each Sitemap: line of a robots.txt as a sitemap', async () => {
    const items = await collect([`${base}/robots.txt`, `${base}/robots.txt`]);
    expect(seedUrls(items)).toEqual([`${base}/t1`, `${base}/t2`, `${base}/t3`, `${base}/b1`]);
    expect(items.filter((i) => i.kind !== 'seed')).toEqual([]);
  });

  it('keeps the entries before a break in the XML and reports the sitemap once, with line and column', async () => {
    const items = await collect([`${base}/broken.xml`, `${base}/list.txt`]);
    expect(seedUrls(items)).toEqual([`${base}/k1`, `${base}/k2`, `${base}/t1`, `${base}/t2`, `${base}/t3`]);
    const [failure, ...more] = failures(items);
    expect(more).toEqual([]);
    expect(failure).toMatchObject({ kind: 'failure', url: `${base}/broken.xml`, code: 'PARSE' });
    expect(failure?.kind === 'failure' && failure.message).toMatch(/broken\.xml.*line 5, column \d+/);
  });

  it('reports a sitemap answered with 404 as HTTP_STATUS and goes on', async () => {
    const items = await collect([`${base}/missing.xml`, `${base}/leaf.xml`]);
    expect(items).toEqual([
      { kind: 'failure', url: `${base}/missing.xml`, code: 'HTTP_STATUS', message: expect.stringContaining('404') },
      { kind: 'seed', url: `${base}/leaf1`, lastmod: null, sitemap: `${base}/leaf.xml` },
    ]);
  });

  it('reports a server that never answers as TIMEOUT', async () => {
    const items = await collect([`${base}/hang`], { timeoutMs: 300 });
    expect(items).toEqual([{ kind: 'failure', url: `${base}/hang`, code: 'TIMEOUT', message: expect.stringContaining('300 ms') }]);
  });

  it(`warns about and does not fetch indexes nested more than ${MAX_SITEMAP_NESTING} deep`, async () => {
    const items = await collect([`${base}/nest?n=0`]);
    expect(items).toEqual([{ kind: 'warning', message: expect.stringContaining(`${base}/nest?n=4 not read`) }]);
    expect(server.hits('/nest?n=3')).toBe(1);
    expect(server.hits('/nest?n=4')).toBe(0);
  });

  it('fetches each sitemap once, through loops of indexes and repeated listings', async () => {
    const items = await collect([`${base}/loop-a.xml`, `${base}/loop-a.xml`, `${base}/leaf.xml`]);
    expect(items).toEqual([{ kind: 'seed', url: `${base}/leaf1`, lastmod: null, sitemap: `${base}/leaf.xml` }]);
    expect(server.hits('/loop-a.xml')).toBe(1);
    expect(server.hits('/loop-b.xml')).toBe(1);
  });

  it('skips entries on another host than their sitemap, unless allHosts; invalid URLs pass for the pipeline to report', async () => {
    const items = await collect([`${base}/hosts.xml`]);
    expect(seedUrls(items)).toEqual([`${base}/same`, 'not a url', `${base.replace('http:', 'https:')}/scheme`]);
    expect(items.filter((i) => i.kind === 'skipped')).toEqual([{ kind: 'skipped', url: `${other}/elsewhere`, reason: 'other-host' }]);
    const all = await collect([`${base}/hosts.xml`], { allHosts: true });
    expect(seedUrls(all)).toEqual([`${base}/same`, `${other}/elsewhere`, 'not a url', `${base.replace('http:', 'https:')}/scheme`]);
  });

  it('keeps only entries modified after newerThan, and those without a readable lastmod', async () => {
    const items = await collect([`${base}/dated.xml`], { newerThan: Date.parse('2025-01-01T00:00:00Z') });
    expect(seedUrls(items)).toEqual([`${base}/new`, `${base}/undated`, `${base}/unreadable`]);
    expect(items.filter((i) => i.kind === 'skipped').map((i) => i.kind === 'skipped' && [i.url, i.reason])).toEqual([
      [`${base}/old`, 'older'],
      [`${base}/edge`, 'older'],
    ]);
    expect(seedUrls(await collect([`${base}/dated.xml`]))).toHaveLength(5);
  });

  it('cuts a file at 50,000 URLs with a warning naming it', async () => {
    let seeds = 0;
    const others: SitemapSeed[] = [];
    for await (const item of sitemapSeeds([`${base}/many.txt`], options())) {
      if (item.kind === 'seed') seeds += 1;
      else others.push(item);
    }
    expect(seeds).toBe(50_000);
    expect(others).toEqual([{ kind: 'warning', message: expect.stringMatching(new RegExp(`^${base}/many\\.txt: .*50000`)) }]);
  });

  it('follows a redirect to the sitemap and compares hosts with where it landed', async () => {
    const items = await collect([`${base}/moved.xml`]);
    expect(items).toEqual([
      { kind: 'seed', url: `${other}/l1`, lastmod: null, sitemap: `${base}/moved.xml` },
      { kind: 'skipped', url: `${base}/l2`, reason: 'other-host' },
    ]);
    expect(seedUrls(await collect([`${base}/relative-hop`]))).toEqual([`${base}/leaf1`]);
  });

  it('stops a redirect loop at maxRedirects', async () => {
    const items = await collect([`${base}/circle`], { maxRedirects: 3 });
    expect(items).toEqual([{ kind: 'failure', url: `${base}/circle`, code: 'TOO_MANY_REDIRECTS', message: expect.stringContaining('3 redirects') }]);
  });

  it('reports a URL that is not http(s) as a failure of its own', async () => {
    const items = await collect(['ftp://example.com/sitemap.xml', 'nope']);
    expect(items.map((i) => i.kind === 'failure' && i.code)).toEqual(['UNSUPPORTED_SCHEME', 'INVALID_URL']);
  });

  it('stops at once on abort mid-read, and closes the response', async () => {
    const controller = new AbortController();
    const leafHits = server.hits('/leaf.xml');
    const reader = sitemapSeeds([`${base}/stall.xml`, `${base}/leaf.xml`], options({ signal: controller.signal }));
    const first = await reader.next();
    expect(first.value).toMatchObject({ kind: 'seed', url: `${base}/s1` });
    controller.abort();
    expect(await reader.next()).toEqual({ done: true, value: undefined });
    await stallClosed;
    expect(server.hits('/leaf.xml')).toBe(leafHits);
  });

  it('closes the response when the consumer stops early', async () => {
    const reader = sitemapSeeds([`${base}/stall-gzip.xml`], options());
    expect((await reader.next()).value).toMatchObject({ kind: 'seed', url: `${base}/z1` });
    expect(await reader.return()).toEqual({ done: true, value: undefined });
    await gzipStallClosed;
  });

  it('counts a body that trickles past the deadline as TIMEOUT', async () => {
    const items = await collect([`${base}/trickle`], { timeoutMs: 300 });
    expect(items).toEqual([{ kind: 'failure', url: `${base}/trickle`, code: 'TIMEOUT', message: expect.stringContaining('300 ms') }]);
  });

  it('reports gzip that does not inflate: DECODE on the wire, PARSE in the file', async () => {
    const items = await collect([`${base}/bad-encoding.xml`, `${base}/bad-file.xml.gz`, `${base}/brotli.xml`]);
    expect(items.map((i) => i.kind === 'failure' && [i.url, i.code])).toEqual([
      [`${base}/bad-encoding.xml`, 'DECODE'],
      [`${base}/bad-file.xml.gz`, 'PARSE'],
      [`${base}/brotli.xml`, 'DECODE'],
    ]);
  });

  it('reads the children an index listed before it broke, after its failure', async () => {
    const items = await collect([`${base}/broken-index.xml`]);
    expect(items.map((i) => i.kind)).toEqual(['failure', 'seed']);
    expect(items[1]).toMatchObject({ url: `${base}/leaf1` });
  });

  it('sums up entries the reader dropped in one warning per file and reason', async () => {
    const items = await collect([`${base}/no-loc.xml`]);
    expect(items).toEqual([
      { kind: 'seed', url: `${base}/n1`, lastmod: null, sitemap: `${base}/no-loc.xml` },
      { kind: 'warning', message: expect.stringMatching(new RegExp(`^${base}/no-loc\\.xml: 2 entries dropped`)) },
    ]);
  });

  it('ends quietly at a redirect to a sitemap already read', async () => {
    const items = await collect([`${base}/leaf.xml`, `${base}/relative-hop`]);
    expect(seedUrls(items)).toEqual([`${base}/leaf1`]);
    expect(items).toHaveLength(1);
  });

  it('settles with at most one failure for every mangled body, plain, gzip file or gzip on the wire (seeded fuzz)', async () => {
    const next = random(20_2025);
    const xml = Buffer.from(urlset(Array.from({ length: 40 }, (_, i) => ({ loc: `${base}/f${i}`, lastmod: '2025-01-01' }))));
    const cases: string[] = [];
    for (let i = 0; i < 60; i++) {
      const kind = i % 3; // 0 plain XML, 1 .gz file, 2 Content-Encoding gzip over plain XML
      const clean = kind === 0 ? xml : gzipSync(xml);
      fuzzBodies.set(String(i), mangle(clean, next));
      cases.push(`${base}/fuzz?i=${i}${kind === 2 ? '&ce=1' : ''}`);
    }
    const codes = new Set<string>();
    for (const url of cases) {
      const items = await collect([url]);
      const failed = failures(items);
      for (const f of failed) if (f.kind === 'failure') codes.add(f.code);
      expect(failed.length, url).toBeLessThanOrEqual(1);
      for (const f of failed) expect(f.kind === 'failure' && ['PARSE', 'DECODE'].includes(f.code), `${url} ${JSON.stringify(f)}`).toBe(true);
      expect(items.every((item) => ['seed', 'failure', 'warning', 'skipped'].includes(item.kind))).toBe(true);
    }
    expect([...codes].sort()).toEqual(['DECODE', 'PARSE']); // the mangling reached both decoders
  });

  it('yields nothing for a signal aborted before it starts', async () => {
    const hits = server.log.requests.length;
    expect(await collect([`${base}/leaf.xml`], { signal: AbortSignal.abort() })).toEqual([]);
    expect(server.log.requests.length).toBe(hits);
  });

  it('rejects bad options by name at the first next()', async () => {
    const reader = sitemapSeeds([`${base}/leaf.xml`], options({ timeoutMs: 0 }));
    await expect(reader.next()).rejects.toThrow('Expected `timeoutMs` to be an integer from 1 to 2147483647, got `0` (number)');
  });
});
