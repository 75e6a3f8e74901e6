// `npm run build && node bench/queue-crawl-memory.mjs [N]`: Redis memory per URL of a queue crawl's seen set
// (src/frontier/redis-crawl-scripts.ts), at N URLs (default 100,000), on a redis-server of its own (from /usr/bin or
// PATH, on a free port, no persistence). INFO memory's used_memory before and after N redirect claims (CRAWL_CLAIM
// adds to the seen set and nothing else); then the same URLs as plain members of a
// second set, for comparison. Figures are printed, not asserted.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisQueue } from '../dist/frontier/redis-queue.js';
import { RedisCrawl } from '../dist/frontier/redis-crawl.js';

const n = Number(process.argv[2]) || 100_000;
const hosts = 997;
const urls = Array.from({ length: n }, (_, i) => `https://www.site-${i % hosts}.example/articles/${Math.floor(i / hosts)}/page-${i}.html?ref=list&p=${i % 13}`);
const avgLength = urls.reduce((sum, url) => sum + url.length, 0) / n;

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'volley-bench-redis-'));
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
try {
  let queue;
  for (let i = 0; ; i++) {
    try {
      queue = await RedisQueue.connect(`redis://127.0.0.1:${port}`, 'mem');
      break;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await queue.define({ run: null });
  const crawl = new RedisCrawl(queue);
  await crawl.define(Infinity);
  const used = async () => Number(/^used_memory:(\d+)/m.exec(await queue.client.sendCommand(['INFO', 'memory']))[1]);
  const version = /^redis_version:(\S+)/m.exec(await queue.client.sendCommand(['INFO', 'server']))[1];

  const before = await used();
  for (let i = 0; i < n; i += 1000) await Promise.all(urls.slice(i, i + 1000).map((url) => crawl.claimUrl(url, '')));
  const after = await used();
  const buckets = Number((await queue.client.sendCommand(['INFO', 'keyspace'])).match(/keys=(\d+)/)[1]);
  const plainBefore = await used();
  for (let i = 0; i < n; i += 1000) await queue.client.sendCommand(['SADD', 'plain', ...urls.slice(i, i + 1000)]);
  const plainAfter = await used();

  console.log(`${n.toLocaleString('en')} URLs, ${avgLength.toFixed(0)} characters on average; redis ${version}`);
  console.log(`seen set (16-byte SHA-1 prefixes in bucket hashes): ${((after - before) / n).toFixed(1)} B a URL by used_memory (${buckets} keys in the server)`);
  console.log(`the URLs themselves in a set:       ${((plainAfter - plainBefore) / n).toFixed(1)} B a URL by used_memory`);
  await queue.close();
} finally {
  redis.kill('SIGTERM');
  await new Promise((r) => redis.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
