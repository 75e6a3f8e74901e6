// volley's own cost per URL, with no network and no server: a dispatcher that answers every request on the next
// turn of the event loop with a ~2 KB page (from a pooled Buffer, a view as undici's reads are), so that what is
// measured is volley's scheduling, response handling and parse hand-off alone. On a shared machine this moves far
// less than W1 (no server taking the same cores): use it to compare two builds of a hot-path change, A/B in turns.
//
//   node bench/per-url.mjs [floor|noextract|title|default] [URLS] [DIST]
//
// floor: the same stub driven by 64 async workers and a regex, no volley (what the stub itself costs).
// noextract: fetchEach with `extract: false`; title: title only (W1's library contestant); default: the default
// fields (title, description: the whole page is read). DIST is the build to load (default: this checkout's dist/).
// Prints one JSON line: CPU and wall µs per URL (the process's CPU, parse threads included).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const mode = process.argv[2] ?? 'noextract';
const n = Number(process.argv[3] ?? 100_000);
const dist = resolve(process.argv[4] ?? new URL('../dist', import.meta.url).pathname);
const { fetchEach } = await import(pathToFileURL(`${dist}/index.js`).href);

const page = Buffer.from(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Small page</title></head><body>${'<p>lorem ipsum dolor</p>\n'.repeat(76)}</body></html>`);
const headers = { 'content-type': 'text/html; charset=utf-8', 'content-length': String(page.length) };
const controller = { abort() {}, pause() {}, resume() {}, aborted: false, paused: false };
const stub = {
  dispatch(_opts, handler) {
    handler.onRequestStart?.(controller, {});
    setImmediate(() => {
      handler.onResponseStart(controller, 200, headers, 'OK');
      handler.onResponseData(controller, Buffer.from(page));
      handler.onResponseEnd(controller, {});
    });
    return true;
  },
  close: async () => {},
  destroy: async () => {},
  on() { return this; },
  once() { return this; },
  off() { return this; },
};

const urls = Array.from({ length: n }, (_, i) => `http://127.0.0.1:9/s/${i}`);
const extract = { noextract: false, title: { title: true, description: false, links: false }, default: undefined }[mode];
if (!['floor', 'noextract', 'title', 'default'].includes(mode)) throw new Error(`unknown mode ${mode}`);
let ok = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
if (mode === 'floor') {
  let next = 0;
  const one = (url) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      stub.dispatch({ origin: 'http://127.0.0.1:9', path: new URL(url).pathname, method: 'GET' }, {
        onResponseStart() {},
        onResponseData: (_c, chunk) => chunks.push(chunk),
        onResponseEnd: () => resolve(Buffer.concat(chunks)),
        onResponseError: (_c, err) => reject(err),
      });
    });
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < n) if (/<title>([^<]*)<\/title>/i.test((await one(urls[next++])).toString())) ok++;
  }));
} else {
  for await (const r of fetchEach(urls, { concurrency: 64, perHost: 64, retries: 0, dispatcher: stub, ...(extract === undefined ? {} : { extract }) })) if (r.ok) ok++;
}
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
if (ok !== n) throw new Error(`${n - ok} of ${n} URLs not ok`);
console.log(JSON.stringify({ mode, urls: n, cpuUsPerUrl: +((cpu.user + cpu.system) / n).toFixed(2), wallUsPerUrl: +((wall * 1000) / n).toFixed(2) }));
