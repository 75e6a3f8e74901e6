#!/usr/bin/env node
// The parse with htmlparser2's own fastForwardTo against SkipTokenizer's (src/parse/skip-tokenizer.ts), CPU per
// page, on the benchmark's pages: W3's ~150 KB pages (title + links), W1's ~2 KB pages (title and description,
// read to the end), and W3's pages with a user selector (the whole DOM, references decoded by the tokenizer).
// Each mode runs in a fresh process, the two taking turns; medians of the runs.
//
//   npm run build && node bench/skip-tokenizer.mjs [runs]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bigPage, smallPage } from './lib/corpus.mjs';

const [mode, kind] = process.argv.slice(2);
if (mode === 'stock' || mode === 'skip') {
  const { SkipTokenizer } = await import('../dist/parse/skip-tokenizer.js');
  // Without its own method the subclass is the stock tokenizer.
  if (mode === 'stock') delete SkipTokenizer.prototype.fastForwardTo;
  const { extractBody } = await import('../dist/parse/extract.js');
  const { normalizeExtract } = await import('../dist/parse/spec.js');
  const big = kind !== 'small';
  // 'dom': W3's pages with a user selector, which builds the whole DOM (references decoded by the tokenizer).
  const spec = normalizeExtract(kind === 'dom' ? { title: true, links: true, select: { h: 'h2' } } : big ? { title: true, description: false, links: true } : { title: true, description: true, links: false });
  const n = big ? 200 : 4_000;
  const pages = Array.from({ length: n }, (_, i) => Buffer.from((big ? bigPage : smallPage)(i).html));
  const parse = (page) => extractBody(page, 'text/html; charset=utf-8', 'http://bench.example/', spec);
  for (const page of pages.slice(0, 50)) parse(page);
  const start = process.cpuUsage();
  for (let rep = 0; rep < 3; rep++) for (const page of pages) parse(page);
  const { user, system } = process.cpuUsage(start);
  console.log((user + system) / (3 * n));
} else {
  const runs = Number(process.argv[2] ?? 5);
  const self = fileURLToPath(import.meta.url);
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  for (const kind of ['big', 'small', 'dom']) {
    const times = { stock: [], skip: [] };
    for (let r = 0; r < runs; r++) {
      for (const m of r % 2 ? ['skip', 'stock'] : ['stock', 'skip']) {
        const child = spawnSync(process.execPath, [self, m, kind], { encoding: 'utf8' });
        if (child.status !== 0) throw new Error(child.stderr);
        times[m].push(Number(child.stdout));
      }
    }
    const [stock, skip] = [median(times.stock), median(times.skip)];
    console.log(`${{ big: "W3's 150 KB pages", small: "W1's 2 KB pages", dom: "W3's pages, whole DOM (-s)" }[kind]}: stock ${stock.toFixed(1)} µs, SkipTokenizer ${skip.toFixed(1)} µs of CPU a page (${(skip / stock).toFixed(2)}x), medians of ${runs} runs`);
  }
}
