import { describe, expect, it } from 'vitest';
import { crawlCodec, failureRequest, leaseExpiredCrawlRow, linkRequest, seedFromInput, seedFromSitemap, workOf } from '../src/queue/crawl-payload.js';
import { RequestLine } from '../src/source/request-lines.js';
import { PresetFailure } from '../src/source/requests.js';
import { FetchError } from '../src/errors.js';
import type { JobRun } from '../src/queue/job.js';

/** A crawl's requests through the queue's payloads (queue/crawl-payload.ts): what a worker claims is what a local crawl would hand out. */

const run: JobRun = { options: {}, body: null, plainBody: null, crawl: { follow: { depth: 2, scope: 'host', include: [], exclude: [], select: null, maxPages: null } } };

describe('crawl payloads', () => {
  it('a URL seed keeps its text (trimmed, as the row names it), its key without the fragment, depth 0', () => {
    const seed = seedFromInput(' http://a.test/x#top ', run);
    expect(seed).toMatchObject({ url: 'http://a.test/x', host: 'a.test' });
    const work = workOf(seed.payload, run);
    expect(work.entry).toEqual({ url: 'http://a.test/x', depth: 0, referrer: null, scopeBase: 'http://a.test/x#top' });
    expect(work.item).toBe('http://a.test/x#top');
  });

  it('a request object seed is crawled whole; a line that is not a URL to crawl goes in plain, for its error row', () => {
    const seed = seedFromInput(new RequestLine('{"url":"https://b.test/","headers":{"x-a":"1"},"meta":{"k":1}}'), run);
    expect(seed.url).toBe('https://b.test/');
    expect(workOf(seed.payload, run).item).toEqual({ url: 'https://b.test/', headers: { 'x-a': '1' }, meta: { k: 1 } });
    const bad = seedFromInput('ftp://c.test/', run);
    expect(bad.url).toBe('');
    expect(workOf(bad.payload, run)).toEqual({ item: 'ftp://c.test/', entry: null });
    const notJson = seedFromInput(new RequestLine('{nope'), run);
    expect(notJson.url).toBe('');
    const work = workOf(notJson.payload, run);
    expect(work.entry).toBeNull();
    expect(work.item).toBeInstanceOf(PresetFailure);
  });

  it('a link is the GET a browser would send (Referer), with its depth, referrer and scope', () => {
    const link = linkRequest('https://a.test/p', 2, 'https://a.test/list', 'https://a.test/');
    expect(crawlCodec(run).link('https://a.test/p', 2, 'https://a.test/list', 'https://a.test/')).toEqual(link);
    const work = workOf(link.payload, run);
    expect(work.entry).toEqual({ url: 'https://a.test/p', depth: 2, referrer: 'https://a.test/list', scopeBase: 'https://a.test/' });
    expect(work.item).toEqual({ url: 'https://a.test/p', headers: { referer: 'https://a.test/list' } });
  });

  it("a sitemap's entry carries its lastmod (null too); an unreadable sitemap is its row, flagged sitemap", () => {
    expect(workOf(seedFromSitemap('http://a.test/s', '2026-11-01').payload, run).entry?.lastmod).toBe('2026-11-01');
    expect(workOf(seedFromSitemap('http://a.test/s', null).payload, run).entry?.lastmod).toBeNull();
    const failure = workOf(failureRequest(new PresetFailure('http://a.test/broken.xml', new FetchError('PARSE', 'bad xml'))).payload, run);
    expect(failure.sitemap).toBe(true);
    expect(failure.item).toBeInstanceOf(PresetFailure);
    expect((failure.item as PresetFailure).error.code).toBe('PARSE');
  });

  it('a LEASE_EXPIRED row names the URL as a local crawl row would, with depth and referrer', () => {
    const seedRow = JSON.parse(leaseExpiredCrawlRow(seedFromSitemap('http://a.test/s', '2026-11-01').payload, 4)) as Record<string, unknown>;
    expect(seedRow).toMatchObject({ url: 'http://a.test/s', ok: false, depth: 0, referrer: null, lastmod: '2026-11-01', error: { code: 'LEASE_EXPIRED' } });
    const linkRow = JSON.parse(leaseExpiredCrawlRow(linkRequest('https://a.test/p', 2, 'https://a.test/list', 'https://a.test/').payload, 4)) as Record<string, unknown>;
    expect(linkRow).toMatchObject({ url: 'https://a.test/p', depth: 2, referrer: 'https://a.test/list' });
    expect(JSON.parse(leaseExpiredCrawlRow('"ftp://c.test/"', 4))).toMatchObject({ url: 'ftp://c.test/', error: { code: 'LEASE_EXPIRED' } });
  });
});
