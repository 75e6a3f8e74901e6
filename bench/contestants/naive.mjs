// (b) The naive baseline: the floor's loop with cheerio.load (its default parse5 path) on the main thread —
// the hand-rolled script volley replaces.
import { Agent, request } from 'undici';
import * as cheerio from 'cheerio';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { check, urlsFor } from '../lib/check.mjs';
import { eachWithWorkers } from '../lib/pool-loop.mjs';

const cfg = JSON.parse(process.argv[2]);
const urls = urlsFor(cfg);
const agent = new Agent({ connections: cfg.concurrency });
const rows = [];
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const started = performance.now();
await eachWithWorkers(urls, cfg.concurrency, async (url) => {
  const res = await request(url, { dispatcher: agent });
  const $ = cheerio.load(await res.body.text());
  const links = cfg.links ? new Set($('a[href]').toArray().map((a) => new URL($(a).attr('href'), url).href)).size : 0;
  rows.push({ url, status: res.statusCode, title: $('title').first().text(), links });
});
const wall = (performance.now() - started) / 1000;
loop.disable();
await agent.close();
console.log(JSON.stringify({ wall, loopP99Ms: loop.percentile(99) / 1e6, ...check(rows, cfg) }));
