import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAll } from '../src/index.js';
import { normalizeExtract } from '../src/parse/spec.js';
import { INLINE_MAX_BYTES, createParseStage, type ParseStage } from '../src/parse/stage.js';
import type { Page } from '../src/parse/types.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';

const options = { extract: normalizeExtract({ links: true }), threads: 1, parseTimeoutMs: 10_000 };
const signal = new AbortController().signal;
const page = (title: string, padding = 0): Page => ({
  body: new TextEncoder().encode(htmlPage(title, `<a href="/next">next</a><p>${'x'.repeat(padding)}</p>`)),
  // A buffer of its own: a thread takes a big one away (a small one is copied), which tells the tests where a big page went.
  owned: true,
  contentType: 'text/html; charset=utf-8',
  url: 'http://a.test/dir/',
});

async function withStage(test: (stage: ParseStage) => Promise<void>): Promise<void> {
  const stage = createParseStage(options);
  try {
    await test(stage);
  } finally {
    await stage.destroy();
  }
}

describe('the parse stage: a run that started no thread parses a small page on the main thread', () => {
  it('keeps a page parsed on the main thread to its deadline', async () => {
    // ~12,000 nested elements in 60 KB: its first 32 KiB piece alone takes tens of ms (htmlparser2's open-element
    // stack grows by unshift), and the deadline is 1 ms, read between pieces.
    const stage = createParseStage({ ...options, parseTimeoutMs: 1 });
    try {
      const deep: Page = { ...page('deep'), body: new TextEncoder().encode(`<title>deep</title>${'<div>'.repeat(12_000)}`) };
      expect(deep.body.byteLength).toBeLessThanOrEqual(INLINE_MAX_BYTES);
      await expect(stage.parse(deep, signal)).rejects.toMatchObject({ code: 'PARSE', message: 'parsing took longer than parseTimeoutMs (1)' });
      expect(stage.stats).toEqual({ threadsStarted: false, parsedInline: 1, headPages: 0 });
    } finally {
      await stage.destroy();
    }
  });

  it('sends even a small page to a thread in a run with selectors (a selector cannot be stopped on the main thread)', async () => {
    const stage = createParseStage({ ...options, extract: normalizeExtract({ select: { h: 'a' } }) });
    try {
      expect(await stage.parse(page('selected'), signal)).toMatchObject({ title: 'selected', data: { h: 'next' } });
      expect(stage.stats).toEqual({ threadsStarted: true, parsedInline: 0, headPages: 0 });
    } finally {
      await stage.destroy();
    }
  });

  it('parses a small page without starting a thread', () =>
    withStage(async (stage) => {
      const fields = await stage.parse(page('small'), signal);
      expect(fields).toMatchObject({ title: 'small', description: 'About small', links: ['http://a.test/next'] });
      expect(stage.stats).toEqual({ threadsStarted: false, parsedInline: 1, headPages: 0 });
    }));

  it('sends a page over INLINE_MAX_BYTES to a thread, starting the threads for it', () =>
    withStage(async (stage) => {
      const big = page('big', INLINE_MAX_BYTES);
      expect(big.body.byteLength).toBeGreaterThan(INLINE_MAX_BYTES);
      const fields = await stage.parse(big, signal);
      expect(fields.title).toBe('big');
      expect(stage.stats.parsedInline).toBe(0);
      expect(stage.stats.threadsStarted).toBe(true);
      // Handed to a thread: the body was transferred away.
      expect(big.body.byteLength).toBe(0);
    }));

  it('sends small pages to the threads once they are started, with the same fields as the main thread found', () =>
    withStage(async (stage) => {
      const inline = await stage.parse(page('same'), signal);
      stage.startThreads();
      const small = page('same');
      const threaded = await stage.parse(small, signal);
      // Copied to the thread (a small page keeps its body: pool.ts crossing), and parsed there, not inline.
      expect(small.body.byteLength).toBeGreaterThan(0);
      expect(stage.stats.parsedInline).toBe(1);
      expect(threaded).toEqual(inline);
    }));

  it('gives CANCELLED for a page whose run was cancelled, and PARSE for a page the parser fails on', () =>
    withStage(async (stage) => {
      const cancelled = new AbortController();
      cancelled.abort();
      await expect(stage.parse(page('late'), cancelled.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
      const broken: Page = { ...page('broken'), url: 'not a url' };
      await expect(stage.parse(broken, signal)).rejects.toMatchObject({ code: 'PARSE' });
    }));

  it('loads nothing it is not asked for: destroy() of an unused stage is a no-op', async () => {
    const stage = createParseStage(options);
    await stage.destroy();
    expect(stage.stats).toEqual({ threadsStarted: false, parsedInline: 0, headPages: 0 });
  });
});

describe('the parse stage of a title-only run: titles read on the main thread where it can be sure (head-title.ts)', () => {
  const titleOnly = { ...options, extract: normalizeExtract({ title: true, description: false }) };

  it('answers an ordinary page without a thread, and starts none when the run asks for them', async () => {
    const stage = createParseStage(titleOnly);
    try {
      stage.startThreads();
      const small = page('  plain\n title ');
      expect(await stage.parse(small, signal)).toEqual({ title: 'plain title', description: null });
      expect(stage.stats).toEqual({ threadsStarted: false, parsedInline: 0, headPages: 1 });
      // A big page is read in place as well: nothing crossed, so its body is still here.
      const big = page('big', INLINE_MAX_BYTES);
      expect(await stage.parse(big, signal)).toEqual({ title: 'big', description: null });
      expect(big.body.byteLength).toBeGreaterThan(INLINE_MAX_BYTES);
      expect(stage.stats).toEqual({ threadsStarted: false, parsedInline: 0, headPages: 2 });
    } finally {
      await stage.destroy();
    }
  });

  it('starts the threads at the first page it cannot answer, which a thread parses as before', async () => {
    const stage = createParseStage(titleOnly);
    try {
      stage.startThreads();
      // A character reference is left to the scan.
      const fields = await stage.parse(page('Tom &amp; Jerry'), signal);
      expect(fields).toEqual({ title: 'Tom & Jerry', description: null });
      expect(stage.stats).toEqual({ threadsStarted: true, parsedInline: 0, headPages: 0 });
      // And the next page it can answer is answered here again.
      expect(await stage.parse(page('next'), signal)).toEqual({ title: 'next', description: null });
      expect(stage.stats.headPages).toBe(1);
    } finally {
      await stage.destroy();
    }
  });

  it('gives CANCELLED for a page of a cancelled run, answerable or not', async () => {
    const stage = createParseStage(titleOnly);
    try {
      const cancelled = new AbortController();
      cancelled.abort();
      await expect(stage.parse(page('late'), cancelled.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(stage.stats.headPages).toBe(0);
    } finally {
      await stage.destroy();
    }
  });
});

describe('a run and its parse stage', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(() => server.close());

  it('extracts the page of a one-URL run, and of a run of many', async () => {
    const [one] = await fetchAll([`${server.url}/ok?t=alone`]);
    expect(one).toMatchObject({ ok: true, title: 'alone', description: 'About alone' });
    const many = await fetchAll(Array.from({ length: 20 }, (_, i) => `${server.url}/ok?t=p${i}`), { threads: 1 });
    expect(many.map((r) => r.title)).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`));
  });

  it('gives a title-only run the same titles whether the main thread or a thread read them', async () => {
    const titles = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? `A &amp; B ${i}` : `t${i}`));
    const results = await fetchAll(titles.map((t) => `${server.url}/ok?t=${encodeURIComponent(t)}`), { threads: 1, extract: { title: true, description: false } });
    expect(results.map((r) => r.title)).toEqual(titles.map((t) => t.replace('&amp;', '&')));
    expect(results.every((r) => r.ok && r.description === null)).toBe(true);
  });
});
