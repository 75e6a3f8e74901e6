import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fetchAll, type FetchResult } from '../src/index.js';
import { normalizeOptions, type VolleyOptions } from '../src/options.js';
import { runPipeline } from '../src/pipeline.js';
import { ByteBudget } from '../src/schedule/byte-budget.js';
import type { Page, PageParser, ParsedFields } from '../src/parse/types.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';

const BODY = 64 * 1024;
/** A 64 KiB HTML page whose title is its query. */
const page = (title: string): string => {
  const head = htmlPage(title);
  return head.replace('</body>', `<p>${'x'.repeat(BODY - head.length - 7)}</p></body>`);
};

let server: TestServer;
beforeAll(async () => {
  server = await createTestServer({
    '/page': (_req, res, url) => {
      const body = page(url.searchParams.get('i') ?? '');
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  });
});
afterAll(async () => {
  await server.close();
});

/**
 * A parse stage that counts, independently of the budget, every body it was handed until the consumer takes the
 * result (`taken`): what the pipeline holds between fetch and consumer. It parses one page at a time (one thread)
 * and only while the fetch side is stalled on the budget, or once nothing is left to fetch: a parser slower than
 * the network, deterministically, whatever the machine.
 */
class SlowParser implements PageParser {
  private readonly heldBy = new Map<string, number>();
  private held = 0;
  peak = 0;
  stalls = 0;
  private queue: { page: Page; resolve: (f: ParsedFields) => void }[] = [];
  private busy = false;

  constructor(
    private readonly budget: ByteBudget,
    private readonly allFetched: () => boolean,
  ) {}

  parse(page: Page): Promise<ParsedFields> {
    this.heldBy.set(page.url, page.body.byteLength);
    this.held += page.body.byteLength;
    this.peak = Math.max(this.peak, this.held);
    return new Promise((resolve) => {
      this.queue.push({ page, resolve });
      void this.pump();
    });
  }

  /** The consumer took the result of `url`. */
  taken(url: string): void {
    this.held -= this.heldBy.get(url) ?? 0;
    this.heldBy.delete(url);
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    while (this.queue.length > 0) {
      await vi.waitFor(() => expect(this.budget.waiting > 0 || this.allFetched()).toBe(true), { timeout: 10_000, interval: 2 });
      if (this.budget.waiting > 0) this.stalls++;
      const { page, resolve } = this.queue.shift()!;
      resolve({ title: titleOf(page.url), description: null });
    }
    this.busy = false;
  }

  async destroy(): Promise<void> {}
}

/** Runs the pipeline with `budget` and `parser` in place, telling the parser as each result is taken. */
async function run(urls: string[], options: VolleyOptions, budget: ByteBudget, parser: SlowParser): Promise<FetchResult[]> {
  const results: FetchResult[] = [];
  for await (const { result } of runPipeline(urls, normalizeOptions(options), { budget, parser })) {
    parser.taken(result.finalUrl ?? result.url);
    results.push(result);
  }
  return results;
}
const titleOf = (url: string): string | null => new URL(url).searchParams.get('i');

describe('the byte budget between fetch and parse (maxBufferedBytes)', () => {
  it.each([1, 4])('holds the bytes waiting for a slow parser to the budget plus the bodies in flight (concurrency %i)', async (concurrency) => {
    const n = 40;
    const urls = Array.from({ length: n }, (_, i) => `${server.url}/page?i=c${concurrency}-${i}`);
    const budget = new ByteBudget(4 * BODY);
    const parser = new SlowParser(budget, () => urls.every((u) => server.hits(u.slice(server.url.length)) === 1));
    const results = await run(urls, { concurrency, perHost: concurrency, retries: 0 }, budget, parser);
    expect(results.map((r) => r.title).sort()).toEqual(urls.map(titleOf).sort());
    expect(results.every((r) => r.ok && r.bytes === BODY)).toBe(true);
    // The fetch side did stall on the budget (the parser was the slow stage) …
    expect(parser.stalls).toBeGreaterThan(0);
    // … and never held more than the budget plus the bodies already on the wire when it filled.
    expect(parser.peak).toBeGreaterThanOrEqual(budget.limit);
    expect(parser.peak).toBeLessThanOrEqual(budget.limit + concurrency * BODY);
    expect(budget.held).toBe(0);
  });

  it('counts a result until the consumer takes it: a consumer that stops taking stops the requests', async () => {
    const budget = new ByteBudget(4 * BODY);
    const fast: PageParser = { parse: async () => ({ title: 'fast', description: null }), destroy: async () => {} };
    const urls = Array.from({ length: 40 }, (_, i) => `${server.url}/page?i=hold-${i}`);
    const hits = () => urls.filter((u) => server.hits(u.slice(server.url.length)) > 0).length;
    const concurrency = 2;
    const iterator = runPipeline(urls, normalizeOptions({ concurrency, perHost: concurrency, retries: 0 }), { budget, parser: fast });
    const first = await iterator.next();
    expect(first.value?.result.ok).toBe(true);
    // Both slots wait for room: nothing is on the wire, so the count at the server is final until we take more.
    await vi.waitFor(() => expect(budget.waiting).toBe(concurrency), { timeout: 10_000 });
    expect(hits()).toBeLessThanOrEqual(1 + 4 + concurrency);
    let taken = 1;
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      expect(next.value.result.ok).toBe(true);
      taken++;
    }
    expect(taken).toBe(40);
    expect(hits()).toBe(40);
  });

  it('lets a body larger than the whole budget through (never deadlocks on it)', async () => {
    const budget = new ByteBudget(BODY / 4);
    const parser = new SlowParser(budget, () => urls.every((u) => server.hits(u.slice(server.url.length)) === 1));
    const urls = Array.from({ length: 12 }, (_, i) => `${server.url}/page?i=huge-${i}`);
    const results = await run(urls, { concurrency: 3, perHost: 3, retries: 0 }, budget, parser);
    expect(results).toHaveLength(12);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(parser.peak).toBeLessThanOrEqual(3 * BODY);
  });

  it('is an option like the others: validated at the edge, on by default at 32 MiB', async () => {
    expect(normalizeOptions({}).maxBufferedBytes).toBe(32 * 1024 * 1024);
    expect(() => normalizeOptions({ maxBufferedBytes: 0 })).toThrow('Expected `maxBufferedBytes` to be an integer from 1 to 9007199254740991, got `0` (number)');
    expect(() => normalizeOptions({ maxBufferedBytes: '1MB' as unknown as number })).toThrow(/`maxBufferedBytes`/);
    // A tiny budget slows a run down but never changes its answers.
    const urls = Array.from({ length: 6 }, (_, i) => `${server.url}/page?i=real-${i}`);
    const results = await fetchAll(urls, { maxBufferedBytes: 1, concurrency: 2, threads: 1 });
    expect(results.map((r) => r.title)).toEqual(urls.map(titleOf));
  });
});
