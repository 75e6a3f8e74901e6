import type { RedisQueue } from '../frontier/redis-queue.js';
import { RedisCrawl } from '../frontier/redis-crawl.js';
import { normalizeOptions } from '../options.js';
import { readSitemaps } from '../crawl/read-sitemaps.js';
import { RedisSeedSink } from '../queue/crawl-seeds.js';
import type { JobRun } from '../queue/job.js';
import type { CliConfig } from './args.js';
import { urlsOf, type Input } from './inputs.js';
import type { CliIo } from './run.js';

/**
 * `volley enqueue --follow …` / `--sitemap URL`: the job becomes a crawl (its `maxPages` stored with it), its inputs
 * and the entries of its sitemaps go in as seeds at depth 0 (queue/crawl-seeds.ts), through the job's seen set.
 */
export async function enqueueCrawl(queue: RedisQueue, job: string, config: CliConfig, run: JobRun, plan: Input[], io: Pick<CliIo, 'stdin' | 'stderr'>): Promise<number> {
  const crawl = new RedisCrawl(queue);
  await crawl.define(run.crawl?.follow.maxPages ?? Infinity);
  const sink = new RedisSeedSink(crawl, run);
  for await (const item of urlsOf(plan, io.stdin)) await sink.addInput(item);
  const options = normalizeOptions({ ...config.options, onWarning: (message: string) => io.stderr.write(`volley: ${message}\n`) });
  if (options.sitemaps.length > 0) await readSitemaps(sink, options, new AbortController().signal);
  await sink.flush();
  const { added, duplicates, overMaxPages } = sink.totals;
  const notes = [duplicates > 0 ? `${duplicates} already seen` : '', overMaxPages > 0 ? `${overMaxPages} over --max-pages` : ''].filter(Boolean);
  io.stderr.write(`volley: job ${JSON.stringify(job)}: ${added} added (a crawl)${notes.length > 0 ? `, ${notes.join(', ')}` : ''}\n`);
  return 0;
}
