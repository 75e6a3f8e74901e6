// Issue 19, part 2: whatever the next bug that strands a URL is, the run must not end with URLs unaccounted for and
// say nothing. A test-only hook (src/drain-guard.ts) makes chosen requests never settle; the event loop then runs
// dry with their rows owed, and the guard gives each an INTERNAL row, says it is a bug, and the CLI exits 70.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fetchAll, fetchEach, type FetchResult } from '../src/index.js';
import { createTestServer, htmlPage, type TestServer } from './fixtures/server.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const HOOK = fileURLToPath(new URL('./fixtures/stall-hook.mjs', import.meta.url));

let server: TestServer;
beforeAll(async () => {
  server = await createTestServer({ '/page': (_req, res) => res.end(htmlPage('fine')) });
});
afterAll(() => server.close());

const LIBRARY = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/**
 * Runs `body` (an ES module's text, with `fetchAll`, `fetchEach`, `VolleyBugError` and `urls` in scope) in a Node
 * process of its own, with the stall hook preloaded: there, unlike in vitest's worker, the event loop can really run
 * dry. Resolves to what the script printed as JSON, and the exit code.
 */
async function inProcess(body: string, urls: string[], nodeArgs: string[] = []): Promise<{ out: any; code: number | null; stderr: string }> {
  const script = `import { fetchAll, fetchEach, VolleyBugError } from ${JSON.stringify(LIBRARY)};\nconst urls = ${JSON.stringify(urls)};\n${body}`;
  const child = spawn(process.execPath, [...nodeArgs, '--import', HOOK, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { out: stdout.trim() ? JSON.parse(stdout) : null, code, stderr };
}

describe('the drain guard', () => {
  it('fetchAll rejects with a VolleyBugError whose results hold every row, the stalled ones as INTERNAL', async () => {
    const urls = [`${server.url}/page`, `${server.url}/stall?1`, `${server.url}/page?2`, `${server.url}/stall?3`];
    const { out, code } = await inProcess(
      `try { await fetchAll(urls); console.log('null'); } catch (err) {
         console.log(JSON.stringify({ bug: err instanceof VolleyBugError, unsettled: err.unsettled, message: err.message,
           rows: err.results.map((r) => [r.url, r.ok ? 'ok' : r.error.code]) }));
       }`,
      urls,
    );
    // The caller's await settled (a hang would have ended the process with 13 and no output).
    expect(code).toBe(0);
    expect(out).toMatchObject({ bug: true, unsettled: 2 });
    expect(out.message).toMatch(/a bug in volley/);
    expect(out.rows).toEqual([
      [urls[0], 'ok'],
      [urls[1], 'INTERNAL'],
      [urls[2], 'ok'],
      [urls[3], 'INTERNAL'],
    ]);
  });

  it('fetchEach yields the INTERNAL rows, then throws', async () => {
    const urls = [`${server.url}/stall`, `${server.url}/page`];
    const { out, code } = await inProcess(
      `const seen = [];
       try { for await (const r of fetchEach(urls)) seen.push(r.url + ' ' + (r.ok ? 'ok' : r.error.code)); console.log(JSON.stringify({ seen, threw: false })); }
       catch (err) { console.log(JSON.stringify({ seen: seen.sort(), threw: err instanceof VolleyBugError })); }`,
      urls,
    );
    expect(code).toBe(0);
    expect(out).toEqual({ seen: [`${urls[1]} ok`, `${urls[0]} INTERNAL`].sort(), threw: true });
  });

  it("reports a crawl whose frontier stops handing out work without ending (nothing owed, the crawl cut short)", async () => {
    const crawl = fileURLToPath(new URL('../dist/crawl/crawl.js', import.meta.url));
    const options = fileURLToPath(new URL('../dist/options.js', import.meta.url));
    const { out, code } = await inProcess(
      `const { runCrawl } = await import(${JSON.stringify(crawl)});
       const { normalizeOptions } = await import(${JSON.stringify(options)});
       const url = urls[0];
       let n = 0;
       // A frontier whose next() never settles after the first URL: a hang in the frontier stands in for the bug.
       const frontier = { stats: {}, next: () => (n++ === 0 ? Promise.resolve({ item: url, entry: { url, depth: 0, referrer: null, scopeBase: url } }) : new Promise(() => {})),
         finished() {}, hold: () => () => {}, addSeed() {}, addRow() {}, claim: () => true, close() {} };
       let rows = 0;
       try { for await (const r of runCrawl([url], normalizeOptions({ follow: true, respectRobots: false }), frontier)) rows++; console.log(JSON.stringify({ rows, threw: false })); }
       catch (err) { console.log(JSON.stringify({ rows, threw: err instanceof VolleyBugError, message: err.message })); }`,
      [`${server.url}/page`],
    );
    expect(code).toBe(0);
    expect(out).toMatchObject({ rows: 1, threw: true });
    expect(out.message).toMatch(/stopped handing out work/);
  });

  it('does nothing while a run waits for its consumer, not for its own work', async () => {
    const run = fetchEach([`${server.url}/page`, `${server.url}/page?2`])[Symbol.asyncIterator]();
    const first = await run.next();
    expect(first.done).toBe(false);
    // Suspended at `yield`: the consumer is the one not asking. A dry loop now is not volley's bug.
    await new Promise((r) => setTimeout(r, 50));
    process.emit('beforeExit', 0);
    const second = await run.next();
    expect((second.value as FetchResult).ok).toBe(true);
    expect((await run.next()).done).toBe(true);
  });

  it('leaves no beforeExit listener behind once runs end', async () => {
    const before = process.listenerCount('beforeExit');
    await Promise.all([fetchAll([`${server.url}/page`]), fetchAll([`${server.url}/page?b`])]);
    expect(process.listenerCount('beforeExit')).toBe(before);
  });

  it('still finds a stall in a run that reuses the watch of runs before it (ended, or dropped and collected)', async () => {
    // Each watch holds its run's callback in a slot that a later run reuses once the watch is stopped or collected:
    // a reused slot must hold the new run's callback, not the old one's, nor nothing.
    const stall = `${server.url}/stall?late`;
    const { out, code } = await inProcess(
      `const ok = urls.slice(0, 2);
       await fetchAll(ok);
       await Promise.all([fetchAll(ok), fetchAll(ok, { extract: false })]);
       await fetchEach(ok, { extract: false })[Symbol.asyncIterator]().next();
       for (let i = 0; i < 20; i++) { await new Promise((r) => setTimeout(r, 5)); globalThis.gc(); }
       const concurrent = fetchAll(ok, { extract: false });
       // A collection while the run is stalled: held only weakly, its callback would go, and the process exit 13.
       setTimeout(() => globalThis.gc(), 100);
       try { await fetchAll([urls[2]]); console.log('null'); } catch (err) {
         await concurrent;
         console.log(JSON.stringify({ bug: err instanceof VolleyBugError, rows: err.results.map((r) => r.ok ? 'ok' : r.error.code) }));
       }`,
      [`${server.url}/page?a`, `${server.url}/page?b`, stall],
      ['--expose-gc'],
    );
    expect(code).toBe(0);
    expect(out).toEqual({ bug: true, rows: ['INTERNAL'] });
  });

  it('lets go of a fetchEach iterator its caller dropped without return(): no listener or run state kept for good', async () => {
    // An abandoned iterator never reaches its finally; the guard holds runs weakly, so once the iterator is garbage
    // its watch goes, and the last one takes the beforeExit listener with it.
    const script = `import { fetchEach } from ${JSON.stringify(LIBRARY)};
      const urls = ${JSON.stringify([`${server.url}/page?x`, `${server.url}/page?y`, `${server.url}/page?z`])};
      for (let i = 0; i < 3; i++) await fetchEach(urls, { extract: i === 0 ? undefined : false })[Symbol.asyncIterator]().next();
      const before = process.listenerCount('beforeExit');
      let after = before;
      for (let i = 0; i < 200 && after > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
        globalThis.gc();
        after = process.listenerCount('beforeExit');
      }
      console.log(JSON.stringify({ before, after }));`;
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ before: 1, after: 0 });
  });

  it('the CLI writes a row for every URL, names the count in the summary, says it is a bug, exits 70', async () => {
    const urls = [`${server.url}/page`, `${server.url}/stall?a`, `${server.url}/page?b`, `${server.url}/stall?c`, `${server.url}/stall?d`];
    const child = spawn(process.execPath, ['--import', HOOK, CLI, ...urls, '--no-progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as FetchResult);
    expect(rows.map((r) => r.url).sort()).toEqual([...urls].sort());
    expect(rows.filter((r) => r.error?.code === 'INTERNAL')).toHaveLength(3);
    expect(stderr).toContain('3 URLs left unfinished by a bug');
    expect(stderr).toContain('INTERNAL 3');
    expect(stderr).toMatch(/internal error: volley lost track of 3 requests.*a bug in volley/);
    expect(code).toBe(70);
  });
});
