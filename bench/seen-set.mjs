// `npm run build && node bench/seen-set.mjs [N]`: the crawl seen set at N URLs (default 1,000,000): bytes a URL,
// ns an add (new URLs), ns a repeated add and a has(), and the hash against node:crypto's sha256 for comparison.
// Figures are printed, not asserted.
import { hash as cryptoHash } from 'node:crypto';
import { SeenSet } from '../dist/crawl/seen-set.js';
import { hash64 } from '../dist/crawl/hash64.js';

const n = Number(process.argv[2]) || 1_000_000;
const hosts = 997;
const urls = Array.from({ length: n }, (_, i) => `https://www.site-${i % hosts}.example/articles/${Math.floor(i / hosts)}/page-${i}.html?ref=list&p=${i % 13}`);
const avgLength = urls.reduce((sum, url) => sum + url.length, 0) / n;

// The best of 3 runs (the first also warms the JIT): shared machines are noisy, and noise only ever adds time.
function time(label, work, setup = () => undefined) {
  let best = Infinity;
  let result;
  for (let rep = 0; rep < 3; rep++) {
    const state = setup();
    const start = process.hrtime.bigint();
    result = work(state);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n);
  }
  console.log(`${label.padEnd(34)} ${best.toFixed(0).padStart(6)} ns`);
  return result;
}

console.log(`${n.toLocaleString('en')} URLs, ${avgLength.toFixed(0)} characters on average; node ${process.version}`);
const out = new Uint32Array(2);
time('hash64 (per URL)', () => { for (const url of urls) hash64(url, out); });
time("crypto.hash('sha256') (per URL)", () => { for (const url of urls) cryptoHash('sha256', url, 'buffer'); });
const set = time('add, new URL (growing from empty)', (fresh) => {
  for (const url of urls) if (!fresh.add(url)) throw new Error(`false positive or duplicate: ${url}`);
  return fresh;
}, () => new SeenSet());
time('add, repeated URL', () => { for (const url of urls) if (set.add(url)) throw new Error('lost a URL'); });
time('has', () => { for (const url of urls) if (!set.has(url)) throw new Error('lost a URL'); });
time('add, new URL (presized)', (fresh) => { for (const url of urls) fresh.add(url); }, () => new SeenSet(n));
const bytes = time('serialize', () => set.serialize());
time('SeenSet.from', () => SeenSet.from(bytes));
console.log(`size ${set.size.toLocaleString('en')}; table ${set.byteLength.toLocaleString('en')} B = ${(set.byteLength / n).toFixed(1)} B a URL (load ${((n * 8) / set.byteLength).toFixed(2)}); state file ${(bytes.length / n).toFixed(1)} B a URL`);
