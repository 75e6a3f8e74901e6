// (c) volley as a library: fetchAll, with the main thread's event-loop delay measured throughout.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fetchAll } from '../../dist/index.js';
import { check, urlsFor } from '../lib/check.mjs';

const cfg = JSON.parse(process.argv[2]);
const urls = urlsFor(cfg);
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const started = performance.now();
const results = await fetchAll(urls, {
  concurrency: cfg.concurrency,
  perHost: cfg.concurrency,
  retries: 0,
  extract: { title: true, description: false, links: cfg.links },
});
const wall = (performance.now() - started) / 1000;
loop.disable();
const rows = results.map((r) => ({ url: r.url, status: r.status, title: r.title, links: r.links?.length ?? 0, error: r.error?.code }));
console.log(JSON.stringify({ wall, loopP99Ms: loop.percentile(99) / 1e6, ...check(rows, cfg) }));
