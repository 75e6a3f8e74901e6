// (a) The floor: raw undici.request from a fixed pool of async workers, a regex for the title and links, no
// real parser. What the hardware and undici can do; no contestant that parses HTML should beat it.
import { Agent, request } from 'undici';
import { check, urlsFor } from '../lib/check.mjs';
import { eachWithWorkers } from '../lib/pool-loop.mjs';

const cfg = JSON.parse(process.argv[2]);
const urls = urlsFor(cfg);
const agent = new Agent({ connections: cfg.concurrency });
const rows = [];
const started = performance.now();
await eachWithWorkers(urls, cfg.concurrency, async (url) => {
  const res = await request(url, { dispatcher: agent });
  const html = await res.body.text();
  const title = /<title>([^<]*)<\/title>/i.exec(html)?.[1] ?? null;
  const links = cfg.links ? new Set(html.match(/<a\s[^>]*href="[^"]*"/gi) ?? []).size : 0;
  rows.push({ url, status: res.statusCode, title, links });
});
const wall = (performance.now() - started) / 1000;
await agent.close();
console.log(JSON.stringify({ wall, ...check(rows, cfg) }));
