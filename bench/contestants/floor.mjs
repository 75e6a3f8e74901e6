// (a) The floor: raw undici.request from a fixed pool of async workers, a regex for the title and links, no
// real parser. What the hardware and undici can do; no contestant that parses HTML should beat it. W6: the same
// loop POSTing each URL's JSON body (serialised per request, as volley does). Over TLS (`ca`), with undici's
// allowH2 when `http2` is set.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { check, urlsFor } from '../lib/check.mjs';
import { jsonBody } from '../lib/api.mjs';
import { eachWithWorkers } from '../lib/pool-loop.mjs';
import { startCpuClock } from '../lib/cpu-clock.mjs';

const cfg = JSON.parse(process.argv[2]);
const urls = urlsFor(cfg);
const tls = cfg.ca ? { connect: { ca: readFileSync(cfg.ca) }, allowH2: Boolean(cfg.http2) } : {};
const agent = new Agent({ connections: cfg.concurrency, ...tls });
const post = cfg.kind === 'post';
const items = urls.map((url, i) => [url, i]);
const rows = [];
const started = performance.now();
const cpu = startCpuClock();
await eachWithWorkers(items, cfg.concurrency, async ([url, i]) => {
  const res = await request(url, post ? { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(jsonBody(i)) } : { dispatcher: agent });
  const html = await res.body.text();
  const title = /<title>([^<]*)<\/title>/i.exec(html)?.[1] ?? null;
  const links = cfg.links ? new Set(html.match(/<a\s[^>]*href="[^"]*"/gi) ?? []).size : 0;
  rows.push({ url, status: res.statusCode, title, links });
});
const wall = (performance.now() - started) / 1000;
const cpuUsed = cpu();
await agent.close();
console.log(JSON.stringify({ wall, ...cpuUsed, ...check(rows, cfg) }));
