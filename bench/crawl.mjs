// `node bench/crawl.mjs [--quick] [--reps N]` (W7, issue 20; also run by `npm run bench`): a crawl of a generated
// site against a list run of the very same pages, in one run on this machine, and what the crawl's memory costs per
// URL. The site (a child process, so its CPU is not the contestant's) has N pages of 30 links each: page i links to
// 30·i+1 … 30·i+30 (mod N), so from /w/0 every page is within depth 4. The list run fetches the same N URLs with
// link extraction on (the crawl parses links too), same concurrency. Prints one JSON line (for main.mjs) and a table.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createServer } from 'node:http';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);

if (args[0] === '--serve') {
  // The site: `--serve N` prints its port.
  const n = Number(args[1]);
  const pages = Array.from({ length: n }, (_, i) => {
    const links = Array.from({ length: 30 }, (_, k) => `<li><a href="/w/${(30 * i + k + 1) % n}">page ${(30 * i + k + 1) % n}</a></li>`).join('');
    return Buffer.from(`<!doctype html><html><head><title>page ${i}</title></head><body><h1>page ${i}</h1><ul>${links}</ul>${'<p>lorem ipsum dolor sit amet</p>'.repeat(20)}</body></html>`);
  });
  const server = createServer((req, res) => {
    const m = /^\/w\/(\d+)$/.exec(req.url ?? '');
    const body = m ? pages[Number(m[1])] : undefined;
    if (!body) {
      res.writeHead(req.url === '/robots.txt' ? 404 : 404, { 'content-length': 0 });
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
} else {
  await main();
}

async function main() {
  const quick = args.includes('--quick');
  const reps = Number(args[args.indexOf('--reps') + 1]) || 2;
  const pages = quick ? 2_000 : 20_000;
  const memUrls = quick ? 100_000 : 1_000_000;
  const { fetchAll } = await import(join(root, 'dist/index.js'));
  const { LocalFrontier } = await import(join(root, 'dist/frontier/local.js'));
  const { SeenSet } = await import(join(root, 'dist/crawl/seen-set.js'));

  const server = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', String(pages)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const base = `http://127.0.0.1:${port}`;
  const common = { concurrency: 64, perHost: 64, retries: 0, respectRobots: false };
  const timed = async (fn) => {
    const t = performance.now();
    const rows = await fn();
    return { s: (performance.now() - t) / 1000, rows };
  };
  const list = Array.from({ length: pages }, (_, i) => `${base}/w/${i}`);
  const runs = { list: [], crawl: [] };
  for (let r = 0; r < reps; r++) {
    // Alternated, so that a machine getting busier hurts both alike.
    const l = await timed(() => fetchAll(list, { ...common, extract: { links: true } }));
    if (l.rows.filter((x) => x.ok).length !== pages) throw new Error(`list run: ${l.rows.filter((x) => x.ok).length} of ${pages} ok`);
    runs.list.push(l.s);
    const c = await timed(() => fetchAll([`${base}/w/0`], { ...common, follow: { depth: 4 } }));
    const ok = c.rows.filter((x) => x.ok).length;
    if (ok !== pages || c.rows.length !== pages) throw new Error(`crawl: ${ok} ok of ${c.rows.length} rows, want ${pages}`);
    runs.crawl.push(c.s);
  }
  server.kill();
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

  // Memory: a seen set of memUrls, and a frontier holding memUrls pending links (one page that links to all of them).
  // Flat strings, as links arrive from the parse threads (a template literal would be a rope, twice the size).
  const makeUrls = () => Array.from({ length: memUrls }, (_, i) => new URL(`https://example.com/section/${i % 997}/item/${i}?ref=${i % 13}`).href);
  const seen = new SeenSet();
  for (const u of makeUrls()) seen.add(u);
  const seenBytesPerUrl = seen.byteLength / memUrls;
  const links = makeUrls();
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const frontier = new LocalFrontier([].values(), { depth: 5, scope: 'all', include: [], exclude: [], select: null, maxPages: Infinity, journal: null, filter: null });
  // A seed handed out, then finished with every URL as its links: they all wait at depth 1.
  const seed = { url: 'https://example.com/', depth: 0, referrer: null, scopeBase: 'https://example.com/' };
  frontier.hold(); // depth 0 in flight, as the seed would be (finished() below ends it)
  frontier.finished({ item: seed.url, entry: seed }, { links, finalUrl: seed.url, nofollow: false }, null);
  globalThis.gc?.();
  // What the pending entries cost, beside the frontier's seen set (counted above).
  const frontierBytesPerUrl = (process.memoryUsage().heapUsed - before - frontier.seenBytes) / memUrls;
  links.length = 0;
  if (frontier.pendingCount !== memUrls) throw new Error(`frontier holds ${frontier.pendingCount} of ${memUrls}`);
  const result = {
    pages,
    listS: median(runs.list),
    crawlS: median(runs.crawl),
    ratio: median(runs.crawl) / median(runs.list),
    memUrls,
    seenBytesPerUrl,
    frontierBytesPerUrl,
    gc: typeof globalThis.gc === 'function',
  };
  console.log(JSON.stringify(result));
  console.error(
    `W7 crawl vs list, ${pages} pages (30 links each, depth 4), c64, ${reps} reps: list ${result.listS.toFixed(2)} s, crawl ${result.crawlS.toFixed(2)} s, ` +
      `crawl/list ${result.ratio.toFixed(2)}x (target <= 1.2x)\n` +
      `memory at ${memUrls.toLocaleString('en')} URLs: seen set ${seenBytesPerUrl.toFixed(1)} B/URL (target <= 16), pending frontier ${frontierBytesPerUrl.toFixed(0)} B/URL (target ~100)` +
      (result.gc ? '' : ' (run with --expose-gc for a cleaner heap figure)'),
  );
}
