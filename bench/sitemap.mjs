// `npm run build && node --expose-gc bench/sitemap.mjs [PAD]`: the sitemap reader on a generated 50,000-URL sitemap padded
// to ~50 MiB (plain and gzipped), fed in 16 KiB chunks: time, MB/s, and the most heap it held above the start.
// Figures are printed, not asserted.
import { gzipSync } from 'node:zlib';
import { readSitemap } from '../dist/crawl/sitemap.js';

const NS = 'http://www.sitemaps.org/schemas/sitemap/0.9';
const parts = [`<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="${NS}" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">\n`];
const pad = 'x'.repeat(Number(process.argv[2] ?? 780));
for (let i = 0; i < 50_000; i++) {
  parts.push(`<url><loc>https://www.example.com/section-${i % 50}/article-${i}.html?ref=sitemap&amp;p=${i}</loc><lastmod>2024-01-01T10:00:00+00:00</lastmod>` +
    `<image:image><image:loc>https://img.example.com/${i}.jpg</image:loc><image:caption>${pad}</image:caption></image:image></url>\n`);
}
parts.push('</urlset>\n');
const plain = Buffer.from(parts.join(''));
parts.length = 0;
const gz = gzipSync(plain);

async function* chunks(bytes, size = 16 * 1024) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

for (const [name, body] of [['plain', plain], ['gzip', gz]]) {
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let entries = 0;
  const start = process.hrtime.bigint();
  for await (const event of readSitemap(chunks(body))) {
    if (event.kind === 'url') entries += 1;
    if (entries % 1000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${name.padEnd(5)} ${(body.length / 1048576).toFixed(1)} MiB in (${(plain.length / 1048576).toFixed(1)} MiB XML): ${entries} entries, ${ms.toFixed(0)} ms, ${(plain.length / 1048576 / (ms / 1000)).toFixed(1)} MiB/s, peak heap above start ${(peak / 1048576).toFixed(1)} MiB`);
}
