// (c) volley as a library: fetchAll, with the main thread's event-loop delay measured throughout. W6: request
// objects POSTing each URL's JSON body (`json`), no extraction (an API batch's answers are not HTML). Over TLS
// with the test CA (`ca`), HTTP/2 offered when `http2` is set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { check, urlsFor } from '../lib/check.mjs';
import { jsonBody } from '../lib/api.mjs';
import { startCpuClock } from '../lib/cpu-clock.mjs';

// Another build's dist/ when `VOLLEY_BENCH_DIST` names one (bench/ab.mjs, a change against the code before it).
const dist = process.env.VOLLEY_BENCH_DIST;
const { fetchAll } = await import(dist ? pathToFileURL(join(dist, 'index.js')).href : '../../dist/index.js');

const cfg = JSON.parse(process.argv[2]);
const urls = urlsFor(cfg);
const post = cfg.kind === 'post';
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const started = performance.now();
const cpu = startCpuClock();
const results = await fetchAll(post ? urls.map((url, i) => ({ url, method: 'POST', json: jsonBody(i) })) : urls, {
  concurrency: cfg.concurrency,
  perHost: cfg.concurrency,
  retries: 0,
  extract: post ? false : { title: true, description: false, links: cfg.links },
  ...(cfg.ca ? { tls: { ca: readFileSync(cfg.ca) }, http2: Boolean(cfg.http2) } : {}),
});
const wall = (performance.now() - started) / 1000;
const cpuUsed = cpu();
loop.disable();
const rows = results.map((r) => ({ url: r.url, status: r.status, title: r.title, links: r.links?.length ?? 0, error: r.error?.code }));
console.log(JSON.stringify({ wall, ...cpuUsed, loopP99Ms: loop.percentile(99) / 1e6, ...check(rows, cfg) }));
